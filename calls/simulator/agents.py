"""The agents of the data set: who calls, in which direction, how often and when."""

import random
import string
from dataclasses import dataclass

from .isotime import DAY_US, US

LOWER_ALNUM = string.ascii_lowercase + string.digits
DASH = "\N{EN DASH}"  # as in the real console: "Ava <en dash> Solar Outbound Sales"
US_AREA_CODES = ("201", "212", "305", "312", "415", "512", "617", "702", "808", "919")


@dataclass(frozen=True, slots=True)
class AgentSpec:
    name: str
    persona: str  # the name the agent introduces itself with
    company: str
    status: str
    role: str  # sales | support | booking | reminders: picks outcomes and transcripts
    speaks_recordings: bool  # its voice is the one in the recordings of its role
    directions: tuple[tuple[str, float], ...]
    weight: float  # share of all calls
    newest_days: float  # it made calls from `oldest_days` ago until `newest_days` ago
    oldest_days: float
    hours: str  # business | after_hours
    created_days: float
    numbers: tuple[str, ...]  # "us" | "uk" per phone number
    listed: bool = True  # False: deleted, yet its calls remain
    cents_per_minute: int = 9
    # Truedy's agent setting, off unless turned on (agents API). Inbound calls follow it, so an
    # agent with it off has no recordings; those with it on record most calls, not all.
    recording_enabled: bool = False


@dataclass(frozen=True, slots=True)
class Agent:
    id: str
    spec: AgentSpec
    created_us: int
    phone_numbers: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def system_prompt(self) -> str:
        spec = self.spec
        return (
            f"You are {spec.persona}, a voice agent for {spec.company}. Be brief and friendly, "
            "confirm every date and time back to the caller, never ask for card numbers, "
            "and hand over to a human when asked. Internal escalation line: ext. 4471."
        )


SPECS: tuple[AgentSpec, ...] = (
    AgentSpec(
        name=f"Ava {DASH} Solar Outbound Sales",
        persona="Ava",
        company="Brightline Solar",
        status="active",
        role="sales",
        speaks_recordings=True,
        directions=(("outbound", 1.0),),
        weight=0.28,
        newest_days=0.0,
        oldest_days=395.0,
        hours="business",
        created_days=420.0,
        numbers=("us", "us"),
        cents_per_minute=12,
        recording_enabled=True,
    ),
    AgentSpec(
        name=f"Jordan {DASH} Northwind Internet Support",
        persona="Jordan",
        company="Northwind Internet",
        status="active",
        role="support",
        speaks_recordings=True,
        directions=(("inbound", 1.0),),
        weight=0.22,
        newest_days=0.0,
        oldest_days=395.0,
        hours="business",
        created_days=410.0,
        numbers=("us", "uk"),
        cents_per_minute=9,
        recording_enabled=True,
    ),
    AgentSpec(
        name=f"Riley {DASH} Maple Dental Appointments",
        persona="Riley",
        company="Maple Dental",
        status="active",
        role="booking",
        speaks_recordings=True,
        directions=(("webrtc", 0.55), ("inbound", 0.45)),
        weight=0.14,
        newest_days=0.0,
        oldest_days=395.0,
        hours="business",
        created_days=400.0,
        numbers=("us",),
        cents_per_minute=7,
        recording_enabled=True,
    ),
    AgentSpec(
        name=f"Leo {DASH} Payment Reminders",
        persona="Leo",
        company="Northwind Internet",
        status="active",
        role="reminders",
        speaks_recordings=False,
        directions=(("outbound", 1.0),),
        weight=0.15,
        newest_days=0.0,
        oldest_days=395.0,
        hours="business",
        created_days=398.0,
        numbers=("us",),
        cents_per_minute=10,
    ),
    AgentSpec(
        name=f'Zoë {DASH} After-Hours Support & Billing "Night Owl"',
        persona="Zoë",
        company="Northwind Internet",
        status="active",
        role="support",
        speaks_recordings=False,
        directions=(("inbound", 0.7), ("webrtc", 0.3)),
        weight=0.07,
        newest_days=0.0,
        oldest_days=210.0,
        hours="after_hours",
        created_days=215.0,
        numbers=("uk",),
        cents_per_minute=9,
    ),
    AgentSpec(
        name=f"Iris {DASH} Insurance Renewals",
        persona="Iris",
        company="Harbor Mutual Insurance",
        status="paused",
        role="sales",
        speaks_recordings=False,
        directions=(("outbound", 1.0),),
        weight=0.05,
        newest_days=40.0,
        oldest_days=300.0,
        hours="business",
        created_days=305.0,
        numbers=("us",),
        cents_per_minute=11,
    ),
    AgentSpec(
        name=f"Quinn {DASH} Ventas en Español",
        persona="Quinn",
        company="Brightline Solar",
        status="draft",
        role="sales",
        speaks_recordings=False,
        directions=(("outbound", 1.0),),
        weight=0.0,
        newest_days=0.0,
        oldest_days=0.0,
        hours="business",
        created_days=9.0,
        numbers=(),
    ),
    AgentSpec(
        name=f"Theo {DASH} Winter Solar Promo",
        persona="Theo",
        company="Brightline Solar",
        status="active",
        role="sales",
        speaks_recordings=False,
        directions=(("outbound", 1.0),),
        weight=0.09,
        newest_days=150.0,
        oldest_days=395.0,
        hours="business",
        created_days=400.0,
        numbers=("us",),
        listed=False,
        cents_per_minute=12,
    ),
)


def random_id(rng: random.Random, prefix: str, length: int, alphabet: str = LOWER_ALNUM) -> str:
    return prefix + "".join(rng.choices(alphabet, k=length))


def us_number(rng: random.Random) -> str:
    """A fictional North American number: 555-0100 to 555-0199 are reserved for fiction."""
    return f"+1{rng.choice(US_AREA_CODES)}55501{rng.randrange(100):02d}"


def uk_number(rng: random.Random) -> str:
    """A fictional UK mobile number from Ofcom's 07700 900xxx drama range."""
    return f"+447700900{rng.randrange(1000):03d}"


def build_agents(rng: random.Random, anchor_us: int) -> tuple[Agent, ...]:
    agents = []
    for spec in SPECS:
        numbers = tuple(us_number(rng) if n == "us" else uk_number(rng) for n in spec.numbers)
        created = anchor_us - round(spec.created_days * DAY_US) - rng.randrange(86_400) * US
        created -= created % US
        agents.append(Agent(random_id(rng, "agt_", 20), spec, created, numbers))
    return tuple(agents)
