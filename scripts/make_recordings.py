#!/usr/bin/env python3
"""Generate the simulator's call recordings: real speech whose words match the transcripts.

Each conversation below is synthesised turn by turn with ``espeak-ng`` (two clearly different
voices: agent and contact), resampled to 16 kHz mono with ``sox``, trimmed of the synthesiser's
own leading/trailing silence, joined with natural pauses, and encoded with ``lame`` as CBR
32 kbps MP3. A turn's ``timestamp`` is where its speech starts in the final audio, computed from
the real sample counts, so the manifest and the audio agree.

Needs Debian's ``espeak-ng``, ``sox`` and ``lame``::

    apt-get update && apt-get install -y espeak-ng sox lame libsox-fmt-mp3

Usage::

    python scripts/make_recordings.py                     # all recordings, into the package
    python scripts/make_recordings.py --only voicemail --out /tmp/rec

Deterministic: the same tool versions give the same manifest (timestamps, durations, bytes).
"""

from __future__ import annotations

import argparse
import array
import json
import random
import shutil
import subprocess
import sys
import tempfile
import wave
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "calls" / "simulator" / "recordings"

RATE = 16_000  # final sample rate (Hz), mono, 16-bit
SPEECH_THRESHOLD = 200  # |sample| above this counts as speech when trimming (about -44 dBFS)
TRIM_MARGIN = int(0.01 * RATE)  # keep 10 ms before/after detected speech
GAP_MIN, GAP_MAX = 0.5, 0.9  # pause between turns, seconds (varied deterministically)
MP3_BITRATE_KBPS = 32
# sox: -R repeatable mode, -D no dither (dither is random noise: it would change every run).
SOX = ("-R", "-D")
PCM_FORMAT = ("-r", str(RATE), "-c", "1", "-b", "16")
VOICE_EFFECTS = ("highpass", "120", "gain", "-n", "-3")  # cut rumble; peak at -3 dBFS
# lame: constant bitrate (the frame count gives the duration), mono 16 kHz, no ReplayGain scan.
LAME = (
    "--silent",
    "--cbr",
    "-b",
    str(MP3_BITRATE_KBPS),
    "-m",
    "m",
    "--resample",
    str(RATE // 1000),
    "-q",
    "2",
    "--noreplaygain",
)

# Agent personas' voices (espeak-ng voice+variant, words per minute).
AVA = ("en-us+f3", 175)  # Brightline Solar, sales
JORDAN = ("en-us+f4", 172)  # Northwind Internet, support
RILEY = ("en-us+f2", 175)  # Maple Dental, booking


@dataclass(frozen=True)
class Turn:
    speaker: str  # "agent" | "contact"
    text: str  # what the transcript shows
    say: str | None = None  # what is spoken, when the synthesiser would misread ``text``
    pause_before: float | None = None  # seconds of silence before this turn (default: varied)


@dataclass(frozen=True)
class Beep:
    """A voicemail tone (not a transcript turn)."""

    seconds: float = 0.6
    freq: int = 1000


@dataclass(frozen=True)
class Recording:
    name: str
    kind: str  # sales | support | voicemail | booking
    direction: str  # outbound | inbound | webrtc
    outcome: str
    agent_role: str  # sales | support | booking
    agent_voice: tuple[str, int]
    contact_voice: tuple[str, int]
    summary: str
    script: list[Turn | Beep] = field(default_factory=list)


A, C = "agent", "contact"

RECORDINGS: list[Recording] = [
    Recording(
        name="sales_interested",
        kind="sales",
        direction="outbound",
        outcome="interested",
        agent_role="sales",
        agent_voice=AVA,
        contact_voice=("en+m3", 165),
        summary=(
            "Homeowner Daniel Ortiz qualified for solar (owns the home, about $140 a month in "
            "electricity, unshaded south-facing roof) and agreed to a free site visit on "
            "Thursday at 3:30 PM."
        ),
        script=[
            Turn(A, "Hi, is this Daniel Ortiz? This is Ava calling from Brightline Solar."),
            Turn(C, "Yeah, this is Daniel. What's this about?"),
            Turn(
                A,
                "We're offering free solar assessments to homeowners in your area this month. "
                "Can I ask you two quick questions to see if your home qualifies?",
            ),
            Turn(C, "Sure, go ahead, as long as it's quick."),
            Turn(
                A,
                "Do you own your home, and is your electric bill usually more than "
                "a hundred dollars a month?",
            ),
            Turn(C, "We own it, and the bill is around a hundred and forty, more in summer."),
            Turn(A, "That's a great fit. Does your roof get good sun, or is it mostly shaded?"),
            Turn(C, "The back of the roof faces south, and there's nothing blocking it."),
            Turn(
                A,
                "Perfect. The next step is a free site visit, about forty five minutes, where an "
                "engineer measures the roof and shows you real savings numbers. "
                "Would Thursday afternoon work?",
            ),
            Turn(C, "Thursday after three would be fine."),
            Turn(
                A,
                "Great, I've booked you for Thursday at three thirty. "
                "You'll get a text confirmation with the engineer's name.",
            ),
            Turn(C, "Okay, sounds good. Thanks, Ava."),
            Turn(A, "Thank you, Daniel. Have a great day."),
        ],
    ),
    Recording(
        name="sales_not_interested",
        kind="sales",
        direction="outbound",
        outcome="not-interested",
        agent_role="sales",
        agent_voice=AVA,
        contact_voice=("en-gb+m1", 162),
        summary=(
            "Robert Chen declined a solar assessment because he plans to sell the house next "
            "year. He asked to be removed from the call list and the agent confirmed removal."
        ),
        script=[
            Turn(A, "Hi, this is Ava from Brightline Solar. Am I speaking with Robert?"),
            Turn(C, "Yes, speaking."),
            Turn(
                A,
                "Thanks for picking up, Robert. We're helping homeowners near you cut their "
                "electric bills with solar, and I wanted to see if you'd be open to a free "
                "assessment.",
            ),
            Turn(
                C,
                "I appreciate the call, but we're not interested. "
                "We're actually planning to sell the house next year.",
            ),
            Turn(
                A,
                "Completely understand. I don't want to take up your time. "
                "Would you like me to remove you from our call list?",
            ),
            Turn(C, "Yes, please take me off the list."),
            Turn(
                A,
                "Done. I've removed your number, and you won't hear from Brightline Solar again. "
                "Sorry for the interruption.",
            ),
            Turn(C, "No problem. Thanks for being polite about it."),
            Turn(A, "Of course. Good luck with the move, and have a nice evening."),
        ],
    ),
    Recording(
        name="sales_callback",
        kind="sales",
        direction="outbound",
        outcome="callback-requested",
        agent_role="sales",
        agent_voice=AVA,
        contact_voice=("en-us+m7", 168),
        summary=(
            "Marcus was driving and asked to be called back tomorrow at 10 AM on the same "
            "number. The agent scheduled the callback."
        ),
        script=[
            Turn(A, "Hi, this is Ava from Brightline Solar. Is this Marcus?"),
            Turn(C, "Yeah, hi. I'm driving right now, so I can't really talk."),
            Turn(
                A,
                "No problem at all, safety first. Is there a better time for me to call you back?",
            ),
            Turn(C, "Can you call me tomorrow around ten in the morning?"),
            Turn(
                A,
                "Sure. Tomorrow at 10 AM, at this same number?",
                say="Sure. Tomorrow at ten A M, at this same number?",
            ),
            Turn(C, "Yes, this number is fine."),
            Turn(
                A,
                "Perfect. I've scheduled a call back for tomorrow at ten. "
                "It will only take about five minutes.",
            ),
            Turn(C, "Sounds good. Talk to you then."),
            Turn(A, "Thanks, Marcus. Drive safe."),
        ],
    ),
    Recording(
        name="support_inbound",
        kind="support",
        direction="inbound",
        outcome="resolved",
        agent_role="support",
        agent_voice=JORDAN,
        contact_voice=("en+m4", 165),
        summary=(
            "Kevin Walsh reported an internet outage since 7 AM. The agent found a fiber cut in "
            "his area that had been repaired; a router restart restored service and a credit "
            "for the outage was added to his next bill."
        ),
        script=[
            Turn(
                A,
                "Thanks for calling Northwind Internet support, this is Jordan. How can I help?",
            ),
            Turn(
                C,
                "Hi, my internet has been down since about seven this morning. "
                "The router light is blinking red.",
            ),
            Turn(
                A,
                "I'm sorry about that. Can I have the phone number on the account?",
            ),
            Turn(
                C,
                "Sure, it's under Kevin Walsh, 555-0142.",
                say="Sure, it's under Kevin Walsh, five five five, oh one four two.",
            ),
            Turn(A, "Thanks, Kevin. Let me check that for you."),
            Turn(
                A,
                "Thanks for waiting. A fiber cut took down your neighborhood this morning, "
                "and it was repaired a few minutes ago.",
                pause_before=8.6,  # dead air while the agent "looks it up"
            ),
            Turn(C, "Oh, okay. So should it be working now?"),
            Turn(
                A,
                "It should. Please unplug the router for thirty seconds, then plug it back in.",
            ),
            Turn(C, "Alright, doing that now. Okay, the light is green and pages are loading."),
            Turn(
                A,
                "Great, you're back online, and I've added a credit for today's outage "
                "to your next bill.",
            ),
            Turn(C, "That's great, thanks."),
            Turn(A, "You're welcome. Bye, Kevin."),
        ],
    ),
    Recording(
        name="voicemail",
        kind="voicemail",
        direction="outbound",
        outcome="voicemail",
        agent_role="sales",
        agent_voice=AVA,
        contact_voice=("en-gb-x-rp+m2", 160),
        summary=(
            "Reached Sam Patel's voicemail. The agent left a message about the requested solar "
            "assessment, offering Thursday or Friday afternoon and a callback number."
        ),
        script=[
            Turn(C, "Hi, you've reached Sam Patel."),
            Turn(C, "I can't take your call right now.", pause_before=0.35),
            Turn(
                C,
                "Please leave your name and number, and I'll get back to you as soon as I can. "
                "Leave a message after the tone.",
                pause_before=0.35,
            ),
            Beep(seconds=0.6, freq=1000),
            Turn(
                A,
                "Hi Sam, this is Ava from Brightline Solar. I'm calling about the free solar "
                "assessment you requested on our website last week.",
                pause_before=0.7,
            ),
            Turn(
                A,
                "We have openings this Thursday and Friday afternoon. "
                "Please call us back at 555-0199, or just reply to the text we sent you.",
                say="We have openings this Thursday and Friday afternoon. "
                "Please call us back at five five five, oh one nine nine, "
                "or just reply to the text we sent you.",
                pause_before=0.4,
            ),
            Turn(A, "Thanks, Sam, and have a great day.", pause_before=0.4),
        ],
    ),
    Recording(
        name="webrtc_booking",
        kind="booking",
        direction="webrtc",
        outcome="interested",
        agent_role="booking",
        agent_voice=RILEY,
        contact_voice=("en-us+m1", 168),
        summary=(
            "Returning patient Tom Becker booked a dental cleaning for Monday at 8:30 AM with "
            "Dr. Lee through the website assistant; an email reminder will be sent the day before."
        ),
        script=[
            Turn(
                A,
                "Hi, thanks for visiting Maple Dental. I'm Riley, the virtual assistant. "
                "How can I help you today?",
            ),
            Turn(C, "Hi, I'd like to book a teeth cleaning."),
            Turn(A, "Happy to help. Are you a current patient, or is this your first visit?"),
            Turn(C, "I'm a current patient. My name is Tom Becker."),
            Turn(
                A,
                "Thanks, Tom. I found your record. Your last cleaning was in March, so you're "
                "due. Do you prefer mornings or afternoons?",
            ),
            Turn(C, "Mornings are better, early in the week if possible."),
            Turn(
                A,
                "I have Monday at 8:30 with Dr. Lee, or Tuesday at 9:15 with our hygienist, Carla.",
                say="I have Monday at eight thirty with Doctor Lee, or Tuesday at nine fifteen "
                "with our hygienist, Carla.",
            ),
            Turn(C, "Monday at eight thirty works."),
            Turn(
                A,
                "You're booked for a cleaning on Monday at 8:30 AM with Dr. Lee. "
                "We'll email you a reminder the day before.",
                say="You're booked for a cleaning on Monday at eight thirty A M with Doctor Lee. "
                "We'll email you a reminder the day before.",
            ),
            Turn(C, "Perfect. Do I need to bring anything?"),
            Turn(A, "Just your insurance card, if it has changed. See you on Monday, Tom."),
            Turn(C, "Thanks, Riley. Bye."),
        ],
    ),
]


# --------------------------------------------------------------------------- audio helpers


def _run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _read_pcm(path: Path) -> array.array:
    with wave.open(str(path), "rb") as w:
        if (w.getnchannels(), w.getsampwidth(), w.getframerate()) != (1, 2, RATE):
            raise RuntimeError(f"{path}: expected mono 16-bit {RATE} Hz")
        pcm = array.array("h")
        pcm.frombytes(w.readframes(w.getnframes()))
    if sys.byteorder == "big":
        pcm.byteswap()
    return pcm


def _write_pcm(path: Path, pcm: array.array) -> None:
    data = pcm
    if sys.byteorder == "big":
        data = array.array("h", pcm)
        data.byteswap()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(data.tobytes())


def _trim(pcm: array.array) -> array.array:
    """Drop the synthesiser's leading/trailing silence, keeping a short margin."""
    loud = [i for i, s in enumerate(pcm) if abs(s) > SPEECH_THRESHOLD]
    if not loud:
        raise RuntimeError("synthesised segment is silent")
    start = max(loud[0] - TRIM_MARGIN, 0)
    end = min(loud[-1] + TRIM_MARGIN + 1, len(pcm))
    return pcm[start:end]


def synth_turn(text: str, voice: tuple[str, int], work: Path, tag: str) -> array.array:
    """Speak ``text`` and return trimmed 16 kHz mono PCM."""
    name, wpm = voice
    txt, raw, seg = work / f"{tag}.txt", work / f"{tag}.raw.wav", work / f"{tag}.wav"
    txt.write_text(text, encoding="utf-8")
    _run("espeak-ng", "-v", name, "-s", str(wpm), "-f", str(txt), "-w", str(raw))
    # Resample to 16 kHz mono; level every voice to the same peak.
    _run("sox", *SOX, str(raw), *PCM_FORMAT, str(seg), *VOICE_EFFECTS)
    return _trim(_read_pcm(seg))


def synth_beep(beep: Beep, work: Path, tag: str) -> array.array:
    out = work / f"{tag}.wav"
    tone = ("synth", str(beep.seconds), "sine", str(beep.freq))
    fade = ("fade", "q", "0.01", str(beep.seconds), "0.01", "gain", "-12")
    _run("sox", *SOX, "-n", *PCM_FORMAT, str(out), *tone, *fade)
    return _read_pcm(out)


def silence(seconds: float) -> array.array:
    return array.array("h", bytes(2 * round(seconds * RATE)))


# --------------------------------------------------------------------------- generation


def build(rec: Recording, out_dir: Path) -> dict:
    """Synthesise one recording into ``out_dir`` and return its manifest entry."""
    rng = random.Random(rec.name)
    voices = {A: rec.agent_voice, C: rec.contact_voice}
    pcm = array.array("h")
    turns: list[dict] = []
    with tempfile.TemporaryDirectory(prefix=f"rec-{rec.name}-") as tmp:
        work = Path(tmp)
        for i, item in enumerate(rec.script):
            gap = round(rng.uniform(GAP_MIN, GAP_MAX), 2)  # drawn every time: stable sequence
            tag = f"{i:02d}"
            if isinstance(item, Beep):
                if pcm:
                    pcm.extend(silence(gap))
                pcm.extend(synth_beep(item, work, tag))
                continue
            if item.speaker not in (A, C):
                raise ValueError(f"{rec.name}: bad speaker {item.speaker!r}")
            segment = synth_turn(item.say or item.text, voices[item.speaker], work, tag)
            if pcm:
                pcm.extend(silence(item.pause_before if item.pause_before is not None else gap))
            turns.append(
                {"speaker": item.speaker, "text": item.text, "timestamp": round(len(pcm) / RATE, 2)}
            )
            pcm.extend(segment)
        pcm.extend(silence(0.4))  # the line stays open briefly after the last word

        wav = work / "full.wav"
        _write_pcm(wav, pcm)
        mp3 = out_dir / f"{rec.name}.mp3"
        _run("lame", *LAME, str(wav), str(mp3))

    return {
        "name": rec.name,
        "file": mp3.name,
        "kind": rec.kind,
        "direction": rec.direction,
        "outcome": rec.outcome,
        "agent_role": rec.agent_role,
        "duration_seconds": round(len(pcm) / RATE, 2),
        "bytes": mp3.stat().st_size,
        "summary": rec.summary,
        "turns": turns,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", metavar="NAME", help="generate only this recording")
    parser.add_argument(
        "--out",
        metavar="DIR",
        type=Path,
        default=DEFAULT_OUT,
        help=f"output directory (default: {DEFAULT_OUT})",
    )
    args = parser.parse_args(argv)

    missing = [t for t in ("espeak-ng", "sox", "lame") if shutil.which(t) is None]
    if missing:
        parser.error(
            f"missing tools: {', '.join(missing)} "
            "(apt-get install -y espeak-ng sox lame libsox-fmt-mp3)"
        )

    selected = RECORDINGS
    if args.only:
        selected = [r for r in RECORDINGS if r.name == args.only]
        if not selected:
            parser.error(
                f"unknown recording {args.only!r}; known: " + ", ".join(r.name for r in RECORDINGS)
            )

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / "manifest.json"

    entries = {}
    if args.only and manifest_path.exists():  # update one entry, keep the others
        existing = json.loads(manifest_path.read_text(encoding="utf-8"))
        entries = {e["name"]: e for e in existing.get("recordings", [])}
    for rec in selected:
        entry = build(rec, out)
        entries[rec.name] = entry
        print(
            f"{entry['file']:<26} {entry['duration_seconds']:6.2f} s "
            f"{len(entry['turns']):3d} turns {entry['bytes']:8d} bytes"
        )

    order = [r.name for r in RECORDINGS]
    recordings = [entries.pop(n) for n in order if n in entries]
    recordings += [entries[n] for n in sorted(entries)]  # entries this script no longer makes
    manifest_path.write_text(
        json.dumps({"recordings": recordings}, indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    total = sum(e["bytes"] for e in recordings)
    print(f"total: {total} bytes ({total / 1_000_000:.2f} MB) in {len(recordings)} recordings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
