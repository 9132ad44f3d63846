"""calls.services.recording_streams: slots per process and per person, and streams ended when
storage is too slow or the deadline passes, each slot given back exactly once."""

import pytest

from calls.services import recording_streams
from calls.services.recording_streams import PacedStream, StreamCut, StreamSlots
from tests.views.test_recording import body, recorded_call


class FakeStream:
    status_code = 200
    headers: dict[str, str] = {}

    def __init__(self, chunks, clock, seconds_per_chunk):
        self._chunks, self._clock, self._step = chunks, clock, seconds_per_chunk
        self.closed = False

    def iter_bytes(self):
        for chunk in self._chunks:
            self._clock.now += self._step  # waiting for storage
            yield chunk

    def close(self):
        self.closed = True


class Clock:
    now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def limits(settings):
    settings.RECORDING_STREAMS_MAX = 3
    settings.RECORDING_STREAMS_PER_USER = 2
    settings.RECORDING_MIN_BYTES_PER_SECOND = 1000
    settings.RECORDING_THROUGHPUT_WINDOW = 10
    settings.RECORDING_STREAM_DEADLINE = 60
    return settings


def test_slots_per_person_and_in_all(limits):
    slots = StreamSlots()
    assert [slots.take("ann"), slots.take("ann"), slots.take("ann")] == [True, True, False]
    assert slots.take("bob") is True
    assert slots.take("cy") is False  # three in all
    slots.give_back("ann")
    assert slots.take("cy") is True
    assert slots.in_use() == 3


def paced(chunks, seconds_per_chunk, released):
    clock = Clock()
    stream = FakeStream(chunks, clock, seconds_per_chunk)
    return PacedStream(stream, lambda: released.append(1), clock=clock), stream


def test_storage_fast_enough_streams_to_the_end(limits):
    released = []
    paced_stream, stream = paced([b"x" * 4000] * 20, 1.0, released)
    assert b"".join(paced_stream) == b"x" * 80_000
    assert released == [1] and stream.closed


def test_storage_that_drips_is_cut_once_the_window_of_waiting_has_passed(limits):
    released = []
    paced_stream, stream = paced([b"x" * 16] * 100, 2.0, released)
    got = []
    with pytest.raises(StreamCut):
        for chunk in paced_stream:
            got.append(chunk)
    assert len(got) == 4  # 8 s of waiting tolerated; at 10 s, 80 bytes < 10,000: cut
    assert released == [1] and stream.closed


def test_no_stream_outlives_its_deadline(limits):
    released = []
    paced_stream, _ = paced([b"x" * 100_000] * 100, 1.0, released)
    with pytest.raises(StreamCut):
        for _ in paced_stream:
            pass
    assert released == [1]


def test_closing_gives_the_slot_back_once_even_if_never_started(limits):
    released = []
    paced_stream, stream = paced([b"x"], 0.1, released)
    paced_stream.close()
    paced_stream.close()
    assert released == [1] and stream.closed
    assert list(paced_stream) == []


@pytest.mark.django_db
def test_beyond_the_slots_the_proxy_says_come_back_in_a_moment(
    staff_client, staff_user, frozen_simulator, limits
):
    call = recorded_call(frozen_simulator)
    recording_streams.SLOTS.take(staff_user.pk)
    recording_streams.SLOTS.take(staff_user.pk)
    response = staff_client.get(f"/calls/{call.id}/recording")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "Too many recordings" in response.content.decode()
    recording_streams.SLOTS.give_back(staff_user.pk)
    response = staff_client.get(f"/calls/{call.id}/recording")
    assert response.status_code == 200
    body(response)
    assert recording_streams.SLOTS.in_use() == 1, "the finished stream gave its slot back"


@pytest.mark.django_db
def test_a_failed_recording_gives_its_slot_back(staff_client, frozen_simulator, limits):
    call = recorded_call(frozen_simulator)
    frozen_simulator.switches.refuse_recordings_next(50)
    for _ in range(4):
        assert staff_client.get(f"/calls/{call.id}/recording").status_code == 410
    assert recording_streams.SLOTS.in_use() == 0
