from bwclab.camera.bodycam import BodyCamera, CameraSettings, CameraState, SignalOutcome


def test_signal_starts_a_buffering_camera_with_its_pre_event_buffer():
    cam = BodyCamera("c", CameraSettings(buffer_s=30))
    assert cam.hear(100.0, "VEH-1") is SignalOutcome.ACTIVATED
    rec = cam.current
    assert rec is not None and rec.video_from == 70.0 and rec.audio_from == 100.0


def test_buffer_cannot_reach_back_before_buffering_began():
    cam = BodyCamera("c", CameraSettings(buffer_s=30), buffering_since=90.0)
    cam.hear(100.0, "x")
    assert cam.recordings[0].video_from == 90.0


def test_audio_in_buffer_reaches_back_with_the_video():
    cam = BodyCamera("c", CameraSettings(buffer_s=60, audio_in_buffer=True))
    cam.hear(100.0, "x")
    assert cam.recordings[0].audio_from == 40.0


def test_signal_never_restarts_a_running_recording():
    cam = BodyCamera("c")
    cam.hear(50.0, "a")
    assert cam.hear(60.0, "b") is SignalOutcome.ALREADY_RECORDING
    assert len(cam.recordings) == 1 and cam.recordings[0].source == "a"


def test_sleeping_camera_ignores_signals_and_has_no_buffer_when_pressed():
    cam = BodyCamera("c", CameraSettings(buffer_s=30))
    cam.sleep(10.0)
    assert cam.hear(50.0, "a") is SignalOutcome.ASLEEP
    assert cam.state is CameraState.SLEEP
    assert cam.press(60.0)
    assert cam.recordings[0].video_from == 60.0


def test_allow_list_rejects_unknown_emitters():
    cam = BodyCamera("c", CameraSettings(allow_list=frozenset({"VEH-1"})))
    assert cam.hear(10.0, "VEH-2") is SignalOutcome.NOT_ALLOWED
    assert cam.hear(11.0, "VEH-1") is SignalOutcome.ACTIVATED


def test_stop_returns_to_buffering_and_the_next_buffer_starts_then():
    cam = BodyCamera("c", CameraSettings(buffer_s=30))
    cam.hear(100.0, "a")
    cam.stop(110.0)
    cam.hear(120.0, "a")
    assert cam.recordings[0].ended_at == 110.0
    assert cam.recordings[1].video_from == 110.0


def test_coverage_needs_video_through_the_whole_window():
    cam = BodyCamera("c", CameraSettings(buffer_s=30))
    cam.hear(100.0, "a")
    cam.stop(200.0)
    rec = cam.recordings[0]
    assert rec.video_covers(70.0, 200.0)
    assert not rec.video_covers(69.0, 100.0)
    assert not rec.video_covers(150.0, 201.0)
    assert not rec.audio_covers(90.0, 100.0)
