"""Whether an on-premises facility can host an option's GPUs: cooling, and how many of the units
the GPU is bought in (a server of the site's size, or a rack-scale system) fit its rack power."""

from __future__ import annotations

import math
import re

from blackwell_decide.model import Cooling, Deployment
from blackwell_decide.rules._fact_context import FactContext, power_basis
from blackwell_decide.rules.option_facts import RackFit
from blackwell_decide.scenario import SiteCooling

__all__ = ["rack_fit"]

#: A catalog form factor that names a rack-scale NVLink system ("…, NVL72 rack"): its GPU count.
_RACK_SCALE = re.compile(r"\bNVL(\d+) rack\b")


def rack_fit(ctx: FactContext, deployment: Deployment, gpus: int) -> RackFit | None:
    facility = ctx.scenario.facility
    if facility is None:
        return None
    acc = deployment.accelerator
    cooling_ok = not (facility.cooling is SiteCooling.AIR and acc.cooling is Cooling.LIQUID)
    # A rack-scale system (GB200 NVL72) is bought as one rack of its GPUs, not as the site's servers.
    scale = _RACK_SCALE.search(acc.form_factor)
    unit = int(scale.group(1)) if scale else facility.gpus_per_server
    words = f"NVL{unit} rack of {unit} GPUs" if scale else f"{unit}-GPU server"
    # A rack's budget is IT power (server, not facility): the PUE is outside the rack.
    server_kw = unit * acc.tdp_watts * (1.0 + power_basis(ctx, acc.key).server_overhead) / 1000.0
    servers = math.floor(facility.rack_power_kw / server_kw + 1e-9)
    per_rack = servers * unit
    racks = math.ceil(gpus / per_rack) if per_rack and gpus else None
    return RackFit(
        site_cooling=facility.cooling,
        gpu_cooling=acc.cooling,
        cooling_ok=cooling_ok,
        server_kw=server_kw,
        rack_kw=facility.rack_power_kw,
        servers_per_rack=servers,
        gpus_per_rack=per_rack,
        racks_needed=racks,
        fits=cooling_ok and servers >= 1,
        server_gpus=unit,
        server_words=words,
    )
