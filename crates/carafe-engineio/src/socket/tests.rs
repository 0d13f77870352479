use super::*;

const LIMIT: usize = 10_000;

fn state() -> (State, Instant) {
    let now = Instant::now();
    (
        State::new(Transport::Polling, now, Duration::from_millis(300)),
        now,
    )
}

fn message(text: &str) -> Outgoing {
    Outgoing::Message(MessagePacket::text(text))
}

#[test]
fn the_first_ping_is_one_interval_after_the_handshake() {
    let (mut state, start) = state();
    let timeout = Duration::from_millis(200);
    let early = state.tick(start, timeout);
    assert_eq!(
        early,
        Tick::Sleep {
            until: start + Duration::from_millis(300),
            wake_writer: false
        }
    );
    assert!(state.queue.is_empty());
    let due = start + Duration::from_millis(300);
    assert_eq!(
        state.tick(due, timeout),
        Tick::Sleep {
            until: due + timeout,
            wake_writer: true
        }
    );
    assert!(matches!(state.queue.back(), Some(Outgoing::Ping)));
}

#[test]
fn a_late_pong_closes_with_ping_timeout() {
    let (mut state, start) = state();
    let timeout = Duration::from_millis(200);
    let due = start + Duration::from_millis(300);
    state.tick(due, timeout);
    assert_eq!(
        state.tick(due + timeout, timeout),
        Tick::Finished(DisconnectReason::PingTimeout)
    );
}

#[test]
fn a_pong_schedules_the_next_ping_one_interval_later() {
    let (mut state, start) = state();
    let timeout = Duration::from_millis(200);
    let due = start + Duration::from_millis(300);
    state.tick(due, timeout);
    let pong = due + Duration::from_millis(50);
    state.on_pong(pong, Duration::from_millis(300));
    assert_eq!(
        state.tick(pong, timeout),
        Tick::Sleep {
            until: pong + Duration::from_millis(300),
            wake_writer: false
        }
    );
}

#[test]
fn only_the_first_packet_into_an_empty_queue_wakes_the_writer() {
    let (mut state, _) = state();
    assert_eq!(state.push(message("a"), LIMIT), Ok(true));
    assert_eq!(state.push(message("b"), LIMIT), Ok(false));
    assert_eq!(state.take_queue().len(), 2);
    assert_eq!(state.push(message("c"), LIMIT), Ok(true));
}

#[test]
fn a_spare_queue_is_reused_emptied_and_a_large_one_is_dropped() {
    let (mut state, _) = state();
    let mut spare = VecDeque::with_capacity(16);
    spare.push_back(message("stale"));
    let capacity = spare.capacity();
    assert_eq!(state.push(message("a"), LIMIT), Ok(true));
    let taken = state.take_queue_into(spare);
    assert_eq!(taken.len(), 1);
    assert!(state.queue.is_empty(), "the spare goes in emptied");
    assert_eq!(state.queue.capacity(), capacity, "and keeps its allocation");
    assert_eq!(state.push(message("b"), LIMIT), Ok(true));
    let _ = state.take_queue_into(VecDeque::with_capacity(4 * SPARE_SLOTS));
    assert_eq!(
        state.queue.capacity(),
        0,
        "a spare over SPARE_SLOTS is not kept"
    );
}

#[test]
fn a_full_buffer_closes_the_session() {
    let (mut state, _) = state();
    let big = "x".repeat(LIMIT);
    assert_eq!(state.push(message(&big), LIMIT), Err(SendError::BufferFull));
    assert_eq!(state.phase, Phase::Closed(DisconnectReason::BufferFull));
    assert_eq!(state.push(message("a"), LIMIT), Err(SendError::Closed));
}

#[test]
fn push_all_is_all_or_nothing() {
    let (mut state, _) = state();
    let packets = vec![message("a"), message("b")];
    assert_eq!(state.push_all(packets, LIMIT), Ok(true));
    assert_eq!(state.queue.len(), 2);
    let big = vec![message("c"), message(&"x".repeat(LIMIT))];
    assert_eq!(state.push_all(big, LIMIT), Err(SendError::BufferFull));
}

#[test]
fn a_graceful_close_sends_what_is_queued_then_closes() {
    let (mut state, now) = state();
    state.push(message("last"), LIMIT).expect("open");
    assert!(state.close_gracefully(DisconnectReason::ForcedClose, now));
    assert_eq!(state.push(message("late"), LIMIT), Err(SendError::Closed));
    let taken = state.take_queue();
    assert!(matches!(taken.front(), Some(Outgoing::Message(_))));
    assert!(matches!(taken.back(), Some(Outgoing::Close)));
    assert_eq!(state.phase, Phase::Closed(DisconnectReason::ForcedClose));
}

#[test]
fn a_stalled_graceful_close_ends_at_its_deadline() {
    let (mut state, now) = state();
    state.close_gracefully(DisconnectReason::ServerClose, now);
    let later = now + CLOSE_TIMEOUT;
    assert_eq!(
        state.tick(later, Duration::from_millis(200)),
        Tick::Finished(DisconnectReason::ServerClose)
    );
}

#[test]
fn closing_answers_the_waiting_get_by_who_closed() {
    let (mut state, _) = state();
    state.poll_waiting = true;
    state.close_now(DisconnectReason::TransportClose);
    assert_eq!(state.poll_answer, Some(PollAnswer::Noop));
    let (mut state, _) = self::state();
    state.poll_waiting = true;
    state.close_now(DisconnectReason::PingTimeout);
    assert_eq!(state.poll_answer, Some(PollAnswer::Close));
    assert!(
        !state.close_now(DisconnectReason::ParseError),
        "closes once"
    );
}

#[test]
fn a_client_close_without_a_waiting_get_owes_the_next_get_a_noop() {
    let (mut state, _) = state();
    state.close_now(DisconnectReason::TransportClose);
    assert!(state.noop_owed);
    let (mut state, _) = self::state();
    state.close_now(DisconnectReason::TransportError);
    assert!(!state.noop_owed);
}
