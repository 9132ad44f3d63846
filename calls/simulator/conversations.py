"""What was said on a call: numbers, summary, metadata and transcript, built on demand.

Each call draws from its own RNG, `random.Random(f"{seed}:{seq}")`, so any one call can be built
alone, in any order, and always comes out the same.
"""

import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .agents import LOWER_ALNUM, Agent, random_id, uk_number, us_number
from .data import CallSkeleton
from .isotime import to_datetime

Line = tuple[str, str]  # (speaker, text)
A, C = "agent", "contact"

FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Sofia", "Mateo", "Aisha", "Wei", "Priya", "Jonas",
    "Chloé", "Siobhán", "Dmitri", "Fatima", "Kenji", "Zoë", "José", "Linh", "Ola", "Marcus",
    "Hannah", "Tomás", "Amara", "Lucas", "Grace", "Yusuf", "Ingrid", "Rafael", "Mei", "Ethan",
)  # fmt: skip
LAST_NAMES = (
    "Johnson", "García", "Okafor", "Nguyễn", "Smith", "Kowalski", "Haddad", "O'Brien", "Chen",
    "Müller", "Patel", "Rossi", "Andersson", "Silva", "Kim", "Dubois", "Murphy", "Cohen",
    "Hernández", "Walker", "Yamamoto", "Novak", "Brown", "Mensah", "Lindqvist",
)  # fmt: skip
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
TIMES = ("9 AM", "9:30 AM", "10 AM", "11:15 AM", "noon", "1 PM", "2:30 PM", "3 PM", "4:45 PM")
TREATMENTS = ("check-up and cleaning", "filling", "whitening consultation", "crown fitting")
DENTISTS = ("Patel", "Okafor", "Lindqvist", "Haddad", "Brennan")
BUSY = ("driving", "at work", "about to go into a meeting", "picking up my kids")

# (what the contact says, how the summary names it)
ISSUES = (
    ("My internet keeps dropping every evening around eight.", "evening connection drops"),
    ("I was charged twice on my last bill.", "a duplicate charge on the last bill"),
    ("I can't log in, and the password reset email never arrives.", "password reset emails"),
    ("I'm moving next month and need my service at the new address.", "moving their service"),
    ("The light on my router is blinking orange.", "a router showing an orange light"),
    ("My Wi-Fi is really slow upstairs.", "slow Wi-Fi upstairs"),
)
STEPS: tuple[Line, ...] = (
    (A, "Could you unplug the router, wait ten seconds and plug it back in?"),
    (C, "Okay, done. The lights are coming back on."),
    (A, "Thanks. I'm running a line test from our side now."),
    (C, "Sure, take your time."),
    (A, "The test shows some noise on the line. Is the router plugged straight into the wall?"),
    (C, "No, it goes through an extension lead."),
    (A, "Please try plugging it directly into the wall socket."),
    (C, "Right, I've moved it."),
    (A, "I've also reset the port on our side. Can you open a web page for me?"),
    (C, "Yes, it loads now."),
    (A, "Can you check the account page shows the right billing address?"),
    (C, "It still has my old street on it."),
    (A, "I've updated it. You'll get an email confirming the change."),
    (C, "Got it, the email just arrived."),
)

PITCHES = {
    "Brightline Solar": {
        "offer": "a free solar assessment",
        "detail": (
            "Your roof could fit about {kw} kilowatts of panels, which would cover roughly "
            "{pct} percent of your electricity."
        ),
        "visit": "site visit",
    },
    "Harbor Mutual Insurance": {
        "offer": "a review of your home insurance renewal",
        "detail": (
            "Your policy renews on {date}, and we found a plan that could save you about "
            "${save} a year with the same cover."
        ),
        "visit": "review call",
    },
}

# Text that would break a careless page: markup, quotes, template syntax, emoji, RTL, ZWJ.
XSS_SCRIPT = '<script>alert("xss")</script>'
XSS_IMG = "<img src=x onerror=alert(1)>"
QUOTES = "\"double\" & 'single' quotes"
TEMPLATE_SYNTAX = "{{ template }} / {% tag %}"
EMOJI = "📞😀👍🏽"
ARABIC = "مرحبا، أود تأكيد موعدي يوم الثلاثاء من فضلك."
HEBREW = "שלום, אני רוצה לבטל את ההזמנה שלי."
ZWJ_FAMILY = "👨\u200d👩\u200d👧"  # one glyph, three emoji joined by zero-width joiners
LONG_WORD = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 6
HOSTILE_STRINGS = (XSS_SCRIPT, XSS_IMG, QUOTES, TEMPLATE_SYNTAX, EMOJI, ARABIC, HEBREW)


@dataclass(frozen=True, slots=True)
class Profile:
    """The cheap per-call details every list item shows."""

    contact_number: str | None
    agent_number: str | None
    summary: str | None
    metadata: dict[str, Any]
    persona: dict[str, str]


def call_rng(seed: int, call: CallSkeleton, purpose: str = "") -> random.Random:
    return random.Random(f"{seed}:{call.seq}{purpose}")


def build_profile(seed: int, call: CallSkeleton, agent: Agent) -> Profile:
    rng = call_rng(seed, call)
    persona = _persona(rng, call, agent)
    contact, agent_number = _numbers(rng, call, agent)
    return Profile(
        contact_number=contact,
        agent_number=agent_number,
        summary=_summary(call, agent, persona),
        metadata=_metadata(rng, call, agent, persona),
        persona=persona,
    )


def build_turns(
    seed: int, call: CallSkeleton, agent: Agent, profile: Profile
) -> list[dict[str, Any]]:
    """The full transcript of an ended call."""
    if call.recording is not None:
        return [dict(turn) for turn in call.recording.turns]
    rng = call_rng(seed, call, ":turns")
    persona = profile.persona
    builder = BUILDERS.get(call.kind)
    if builder is None:
        return []
    lines = builder(rng, call, agent, persona)
    return _with_personal_data(seed, call, persona, _timed(rng, lines, call.duration_seconds or 0))


# ---------------------------------------------------------------------- per-call details


def _persona(rng: random.Random, call: CallSkeleton, agent: Agent) -> dict[str, str]:
    day, day2 = rng.sample(DAYS, 2)
    time, time2 = rng.sample(TIMES, 2)
    created = to_datetime(call.created)
    return {
        "first": rng.choice(FIRST_NAMES),
        "last": rng.choice(LAST_NAMES),
        "agent": agent.spec.persona,
        "company": agent.spec.company,
        "day": day,
        "day2": day2,
        "time": time,
        "time2": time2,
        "kw": str(rng.randint(4, 11)),
        "pct": str(rng.randrange(60, 100, 5)),
        "save": str(rng.randrange(90, 600, 10)),
        "date": f"{created.strftime('%B')} {rng.randint(1, 28)}",
        "amount": f"{rng.randint(35, 180)}.{rng.randrange(100):02d}",
        "zip": f"{rng.randint(10000, 99999)}",
        "dob": f"{rng.choice(('March', 'July', 'October'))} {rng.randint(1, 28)}, "
        f"{rng.randint(1950, 2004)}",
        "ticket": f"NW-{rng.randint(100000, 999999)}",
        "treatment": rng.choice(TREATMENTS),
        "dentist": rng.choice(DENTISTS),
        "busy": rng.choice(BUSY),
        "issue": str(rng.randrange(len(ISSUES))),
        "failure": rng.choice(
            (
                "the number is not in service",
                "the carrier returned busy",
                "the network dropped the call before it connected",
            )
        ),
        "month": created.strftime("%Y%m"),
    }


def _numbers(rng: random.Random, call: CallSkeleton, agent: Agent) -> tuple[str | None, str | None]:
    if call.direction == "webrtc" or not agent.phone_numbers:
        return None, None
    uk_only = all(n.startswith("+44") for n in agent.phone_numbers)
    contact = uk_number(rng) if rng.random() < (0.8 if uk_only else 0.12) else us_number(rng)
    country = "+44" if contact.startswith("+44") else "+1"
    own = [n for n in agent.phone_numbers if n.startswith(country)] or list(agent.phone_numbers)
    return contact, rng.choice(own)


def _metadata(
    rng: random.Random, call: CallSkeleton, agent: Agent, persona: dict[str, str]
) -> dict[str, Any]:
    slug = agent.spec.company.split()[0].lower()
    if call.direction == "outbound":
        campaign = f"cmp_{slug}_{agent.spec.role}_{persona['month']}"
    else:
        campaign = f"cmp_{slug}_{call.direction}_{agent.spec.role}"
    metadata: dict[str, Any] = {
        "campaign_id": campaign,
        "contact_id": random_id(rng, "ctc_", 12, LOWER_ALNUM),
    }
    extra = rng.random()
    if extra < 0.25:
        metadata["attempt"] = rng.randint(1, 3)
    elif extra < 0.4:
        metadata["lead_source"] = rng.choice(("web-form", "referral", "trade-show", "partner"))
    elif extra < 0.5:
        metadata["crm_id"] = f"hs-{rng.randint(10_000_000, 99_999_999)}"
    if call.kind == "hostile":
        metadata.update(
            {
                "display_name": XSS_IMG,
                "notes": f"{TEMPLATE_SYNTAX} {QUOTES} {XSS_SCRIPT}",
                "mood": EMOJI,
                "household": ZWJ_FAMILY,
                "rtl_note": HEBREW,
                "token": LONG_WORD,
            }
        )
    return metadata


def _summary(call: CallSkeleton, agent: Agent, p: dict[str, str]) -> str | None:
    if call.recording is not None:
        if call.final == "failed":
            return f"The line dropped as the call was ending. {call.recording.summary}"
        return call.recording.summary
    name = f"{p['first']} {p['last']}"
    pitch = PITCHES.get(agent.spec.company, PITCHES["Brightline Solar"])
    issue = ISSUES[int(p["issue"])][1]
    outcome = call.outcome
    kind = call.kind
    if kind == "failed":
        return f"Call failed: {p['failure']}."
    if kind == "cancelled":
        return None
    if kind == "no-answer":
        return "No answer; the call rang out without reaching voicemail."
    if kind == "voicemail":
        return f"Reached {name}'s voicemail and left a message asking for a call back."
    if kind == "hostile":
        return (
            f"{name} reported that their display name shows {XSS_SCRIPT} and their notes show "
            f"{QUOTES} and {TEMPLATE_SYNTAX}. Customer was happy {EMOJI}. {ARABIC}"
        )
    if kind == "long":
        return (
            f"Long troubleshooting session with {name} about {issue}: line tests, router "
            f"resets and a port reset. Escalated to field engineering under ticket {p['ticket']}."
        )
    if kind == "mislabelled":
        # What the AI concluded, however little the call said.
        return f"{name}: {(outcome or 'no outcome').replace('-', ' ')} (per the AI's analysis)."
    if kind == "sales":
        return {
            "interested": f"{name} is interested in {pitch['offer']} and booked a "
            f"{pitch['visit']} for {p['day']} at {p['time']}.",
            "not-interested": f"{name} was not interested in {pitch['offer']} and asked to be "
            "removed from the call list.",
            "callback-requested": f"{name} was {p['busy']} and asked for a callback on "
            f"{p['day']} at {p['time']}.",
        }.get(outcome or "", f"The line dropped before {name} could answer; no outcome.")
    if kind == "reminders":
        return {
            "confirmed": f"{name} confirmed they will pay the ${p['amount']} balance today.",
            "callback-requested": f"{name} asked to be called back on {p['day']} about the "
            f"${p['amount']} balance.",
            "not-interested": f"{name} says the ${p['amount']} balance is already paid.",
        }.get(outcome or "", f"{name} hung up before confirming the ${p['amount']} payment.")
    if kind == "support":
        return {
            "resolved": f"{name} called about {issue}; fixed during the call ({p['ticket']}).",
            "escalated": f"{name} called about {issue}; escalated to a specialist "
            f"under ticket {p['ticket']}.",
            "callback-requested": f"{name} called about {issue} and asked for a callback on "
            f"{p['day']} at {p['time']}.",
        }.get(outcome or "", f"{name} called about {issue} and will check again later.")
    if kind == "booking":
        return {
            "booked": f"{name} booked a {p['treatment']} with Dr. {p['dentist']} on "
            f"{p['day2']} at {p['time2']}.",
            "rescheduled": f"{name} moved their {p['treatment']} to {p['day2']} at {p['time2']}.",
            "resolved": f"{name} asked about opening hours and parking; no booking needed.",
            "callback-requested": f"{name} asked the front desk to call back about insurance "
            "cover before booking.",
        }.get(outcome or "", f"{name} asked about availability but did not book.")
    return None


# ---------------------------------------------------------------------- transcripts


def _timed(rng: random.Random, lines: list[Line], duration: int) -> list[dict[str, Any]]:
    """Turns with start times spread over the call, in proportion to how long each one is."""
    if not lines:
        return []
    starts, cursor = [], rng.uniform(0.5, 1.5)
    for _speaker, text in lines:
        starts.append(cursor)
        cursor += 0.35 + len(text) / 15 + rng.uniform(0.3, 1.1)
    scale = max(duration - 1, 1) / cursor if duration else 1.0
    return [
        {"speaker": speaker, "text": text, "timestamp": round(start * scale, 2)}
        for (speaker, text), start in zip(lines, starts, strict=True)
    ]


def _fill(lines: list[tuple[str, str]], persona: dict[str, str]) -> list[Line]:
    return [(speaker, text.format(**persona)) for speaker, text in lines]


def _sales(rng: random.Random, call: CallSkeleton, agent: Agent, p: dict[str, str]) -> list[Line]:
    pitch = PITCHES.get(agent.spec.company, PITCHES["Brightline Solar"])
    p = {**p, **{k: v.format(**p) for k, v in pitch.items()}}
    lines = [
        (A, "Hi, is this {first}? This is {agent}, an AI assistant calling from {company}."),
        (C, rng.choice(("Yes, speaking.", "Yeah, who's this?", "This is {first}, yes."))),
        (
            A,
            "I'm following up on "
            + rng.choice(
                ("your request for {offer}", "the form you filled in on our website", "{offer}")
            )
            + ". Do you have a minute?",
        ),
    ]
    outcome = call.outcome
    if outcome == "interested":
        lines += [
            (C, "Sure, go ahead."),
            (A, "{detail}"),
            (C, rng.choice(("That sounds interesting. What does it cost?", "And the cost?"))),
            (A, "The {visit} is free and takes about forty minutes. Would {day} at {time} work?"),
            (C, "{day} at {time} works for me."),
            (A, "You're booked for {day} at {time}. You'll get a text confirmation shortly."),
            (C, "Great, thanks."),
            (A, "Thank you, {first}. Have a great day."),
        ]
    elif outcome == "not-interested":
        lines += [
            (
                C,
                rng.choice(
                    (
                        "Sorry, we're renting, so it's not for us.",
                        "I'm not interested, thanks.",
                        "We're happy with what we have.",
                    )
                ),
            ),
            (A, "I understand. Would you like me to remove your number from our list?"),
            (C, "Yes, please."),
            (A, "Done. Sorry for the interruption, and have a good day."),
        ]
    elif outcome == "callback-requested":
        lines += [
            (C, "I can't talk right now, I'm {busy}. Can you call me back {day} around {time}?"),
            (A, "Of course. I'll call you back on {day} at {time}. Talk to you then."),
            (C, "Thanks, bye."),
        ]
    else:
        lines += [
            (C, "Sorry, you're breaking up. Which company?"),
            (A, "{company}. I'm calling about {offer}."),
            (C, "Hello? I can't hear you..."),
        ]
    return _fill(lines, p)


def _reminders(
    rng: random.Random, call: CallSkeleton, agent: Agent, p: dict[str, str]
) -> list[Line]:
    lines = [
        (A, "Hi, this is {agent}, an automated assistant from {company}. Is this {first} {last}?"),
        (C, rng.choice(("Yes.", "Speaking.", "Yes, what's this about?"))),
        (A, "I'm calling about your balance of ${amount}, which was due on {date}."),
    ]
    outcome = call.outcome
    if outcome == "confirmed":
        lines += [
            (C, "Oh, I completely forgot. I'll pay it online today."),
            (A, "Thank you. I've noted that you'll pay today. Is there anything else?"),
            (C, "No, that's it."),
        ]
    elif outcome == "callback-requested":
        lines += [
            (C, "Can you call me back on {day}? I get paid then."),
            (A, "Sure, I'll call you back on {day}. Thank you."),
        ]
    elif outcome == "not-interested":
        lines += [
            (C, "I already paid that yesterday."),
            (
                A,
                "Thanks for letting me know. Payments can take a day to show. Sorry to bother you.",
            ),
        ]
    else:
        lines += [(C, "I can't deal with this now.")]
    lines.append((A, "Goodbye, {first}."))
    return _fill(lines, p)


def _support_opening(rng: random.Random, p: dict[str, str]) -> list[tuple[str, str]]:
    return [
        (A, "Thanks for calling {company} support, this is {agent}. How can I help?"),
        (C, ISSUES[int(p["issue"])][0]),
        (A, "I'm sorry about that. Can I have the account holder's name and ZIP code?"),
        (C, "{first} {last}, " + rng.choice(("{zip}.", "it's {zip}."))),
        (A, "Thanks, {first}, I've found your account."),
    ]


def _support(rng: random.Random, call: CallSkeleton, agent: Agent, p: dict[str, str]) -> list[Line]:
    lines = _support_opening(rng, p)
    pairs = min(max((call.duration_seconds or 0) // 60, 1), len(STEPS) // 2)
    start = rng.randrange(len(STEPS) // 2) * 2
    for i in range(pairs):
        lines += [STEPS[(start + 2 * i) % len(STEPS)], STEPS[(start + 2 * i + 1) % len(STEPS)]]
    outcome = call.outcome
    if outcome == "resolved":
        lines += [
            (A, "That's fixed on our side. Your reference is {ticket}."),
            (C, "Yes, it's working now. Thank you!"),
        ]
    elif outcome == "escalated":
        lines += [
            (
                A,
                "I'm passing this to a specialist. Your ticket is {ticket}; "
                "expect a call within 24 hours.",
            ),
            (C, "Okay, thanks."),
        ]
    elif outcome == "callback-requested":
        lines += [
            (C, "I'm not at home now. Can someone call me back {day} at {time}?"),
            (A, "Done: a callback is booked for {day} at {time}."),
        ]
    else:
        lines += [(C, "Actually, let me check a few things and call back later.")]
    lines.append((A, "Thanks for calling {company}. Goodbye!"))
    return _fill(lines, p)


def _booking(rng: random.Random, call: CallSkeleton, agent: Agent, p: dict[str, str]) -> list[Line]:
    lines = [
        (A, "Hello, you've reached {company}, this is {agent}. How can I help you today?"),
    ]
    outcome = call.outcome
    if outcome == "resolved":
        lines += [
            (C, "What time do you open on Saturdays, and is there parking?"),
            (A, "We open at nine on Saturdays, and there's free parking behind the building."),
            (C, "Great, that's all I needed."),
        ]
    elif outcome == "callback-requested":
        lines += [
            (C, "I'd like to book, but first I need to know if my insurance covers it."),
            (A, "Our front desk can check that. Shall they call you back {day}?"),
            (C, "Yes, please."),
        ]
    else:
        ask = (
            "I need to move my appointment."
            if outcome == "rescheduled"
            else "I'd like to book a {treatment}."
        )
        lines += [
            (C, ask),
            (A, "Sure. Can I have your full name and date of birth?"),
            (C, "{first} {last}, {dob}."),
            (A, "Thanks. We have {day} at {time} or {day2} at {time2} with Dr. {dentist}."),
        ]
        if outcome in ("booked", "rescheduled"):
            lines += [
                (C, "{day2} at {time2}, please."),
                (
                    A,
                    "Done: {treatment} on {day2} at {time2} with Dr. {dentist}. "
                    "We'll text you a reminder.",
                ),
                (C, rng.choice(("Perfect, thank you.", "Thanks so much."))),
            ]
        else:
            lines += [(C, "Hmm, neither works. I'll check my calendar and call back.")]
    lines.append((A, "Thank you for calling {company}. Goodbye."))
    return _fill(lines, p)


def _voicemail(
    rng: random.Random, call: CallSkeleton, agent: Agent, p: dict[str, str]
) -> list[Line]:
    return _fill(
        [
            (
                C,
                "Hi, you've reached {first}. I can't take your call, "
                "leave a message after the tone.",
            ),
            (
                A,
                "Hi {first}, this is {agent} from {company}. Please call us back when you can, "
                "or we'll try you again on {day}. Thanks!",
            ),
        ],
        p,
    )


def _hostile(rng: random.Random, call: CallSkeleton, agent: Agent, p: dict[str, str]) -> list[Line]:
    lines = _fill([(A, "Hello, this is {agent} from {company}. How can I help?")], p)
    return [
        *lines,
        (C, f"My display name shows {XSS_SCRIPT} instead of my name. Is that a problem?"),
        (A, "I can see it. I'll reset it to your real name."),
        (C, f"And my profile picture just says {XSS_IMG}."),
        (C, f"The notes field is full of {QUOTES} and {TEMPLATE_SYNTAX}."),
        (A, "Understood. I've cleared both fields."),
        (C, f"Thank you so much {EMOJI}"),
        (C, ARABIC),
        (A, HEBREW),
        (C, f"One last thing: the family plan covers all of us {ZWJ_FAMILY}."),
        (C, f"My old username was {LONG_WORD}."),
        (A, "All noted. Have a lovely day!"),
    ]


def _mislabelled(
    rng: random.Random, call: CallSkeleton, agent: Agent, p: dict[str, str]
) -> list[Line]:
    """The contact says a word or two and the line goes quiet; the AI labels it decisively."""
    said = rng.choice(("Hello?", "Hello.", "Who is this?", "Wrong number.", "Yes?", "Hm."))
    lines = [
        (A, "Hi, this is {agent} from {company}. Am I speaking with {first}?"),
        (C, said),
        (A, "Great! I'm calling with a quick update for you. Is now a good time?"),
    ]
    return _fill(lines, p)


def _long(rng: random.Random, call: CallSkeleton, agent: Agent, p: dict[str, str]) -> list[Line]:
    lines = _fill(_support_opening(rng, p), p)
    target = max(call.turns, len(lines) + 2)
    step = 0
    while len(lines) < target - 2:
        speaker, text = STEPS[step % len(STEPS)]
        lines.append((speaker, f"{text} (check {step // 2 + 1})" if speaker == A else text))
        step += 1
    lines += _fill(
        [
            (A, "I'm escalating this to our field engineers under ticket {ticket}."),
            (C, "Thank you for your patience. Goodbye."),
        ],
        p,
    )
    return lines


# ---------------------------------------------------------------------- personal data

# About half of the card payments, e-mail checks and text confirmations below carry personal
# data read out the way people read it, so the dashboard's masking has something to mask (issue
# 21). Booking calls already give a date of birth. The numbers are test numbers: the card
# networks' published test cards and 555-01xx.
PERSONAL_DATA_SHARE = 0.5
TEST_CARDS = ("4111111111111111", "5555555555554444", "4242424242424242", "6011111111111117")
DIGIT_WORDS = ("oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
MAIL_DOMAINS = ("gmail", "outlook", "yahoo", "icloud")


def _with_personal_data(
    seed: int, call: CallSkeleton, persona: dict[str, str], turns: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The turns, with a few new ones carrying personal data in some calls.

    Decided by the call's own ``:personal-data`` RNG and slotted in between two existing turns
    (their start times spread over the gap), so every other draw, turn and time stays as it was.
    """
    rng = call_rng(seed, call, ":personal-data")
    if rng.random() >= PERSONAL_DATA_SHARE:
        return turns
    if call.kind == "reminders" and call.outcome == "confirmed":
        after, lines = 3, _card_payment(rng)
    elif call.kind == "support":
        after, lines = 4, _email_check(rng, persona)
    elif call.kind == "sales" and call.outcome == "interested":
        after, lines = 8, _text_to_number(rng)
    else:
        return turns
    if len(turns) <= after + 1:
        return turns
    start, end = turns[after]["timestamp"], turns[after + 1]["timestamp"]
    step = (end - start) / (len(lines) + 1)
    added = [
        {"speaker": speaker, "text": text, "timestamp": round(start + step * (n + 1), 2)}
        for n, (speaker, text) in enumerate(lines)
    ]
    return [*turns[: after + 1], *added, *turns[after + 1 :]]


def _spoken_digits(digits: str) -> str:
    return ", ".join(
        " ".join(DIGIT_WORDS[int(d)] for d in digits[i : i + 4]) for i in range(0, len(digits), 4)
    )


def _card_payment(rng: random.Random) -> list[Line]:
    card = rng.choice(TEST_CARDS)
    return [
        (A, "I can also take a card payment right now, if that's easier."),
        (C, f"Oh, sure. The card number is {_spoken_digits(card[:8])},"),
        (A, "Mm-hm."),
        (C, f"{_spoken_digits(card[8:])}."),
    ]


def _email_check(rng: random.Random, p: dict[str, str]) -> list[Line]:
    def plain(name: str) -> str:
        folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
        return "".join(char for char in folded.lower() if char.isalnum())

    local, domain = f"{plain(p['first'])} dot {plain(p['last'])}", rng.choice(MAIL_DOMAINS)
    return [
        (A, "Can I confirm the email address on the account?"),
        (C, f"Yes, it's {local} at {domain} dot com."),
        (A, "Thanks, that matches what we have."),
    ]


def _text_to_number(rng: random.Random) -> list[Line]:
    number = f"{rng.choice(('415', '212', '617', '702'))}55501{rng.randrange(100):02d}"
    spoken = ", ".join(
        " ".join(DIGIT_WORDS[int(d)] for d in part)
        for part in (number[:3], number[3:6], number[6:])
    )
    return [
        (C, f"Can you send it to my cell instead? It's {spoken}."),
        (A, "Of course, I'll text the confirmation to that number."),
    ]


BUILDERS: dict[str, Callable[[random.Random, CallSkeleton, Agent, dict[str, str]], list[Line]]] = {
    "sales": _sales,
    "reminders": _reminders,
    "support": _support,
    "booking": _booking,
    "voicemail": _voicemail,
    "hostile": _hostile,
    "long": _long,
    "mislabelled": _mislabelled,
}
