//! The in-process event bus: after a transaction commits, its events go to
//! every subscriber. Each subscriber has its own thread and a bounded queue;
//! publishing never waits, so a slow, stuck or panicking subscriber can
//! neither slow nor fail the operation that published. When a queue is
//! full, that subscriber misses the event (counted, and logged at most once
//! a minute); the audit log, written in the transaction, misses nothing.

use crate::once_every::OnceEvery;
use crate::{Actor, Event};
use chrono::{DateTime, Utc};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// The events a subscriber's queue holds before it misses some.
pub const QUEUE_CAPACITY: usize = 4096;

/// An event as subscribers receive it: with its actor and time.
#[derive(Clone, Debug)]
pub struct Published {
    /// What happened.
    pub event: Event,
    /// Who did it.
    pub actor: Actor,
    /// When it was committed.
    pub at: DateTime<Utc>,
}

/// Something that reacts to events, on its own thread.
pub trait Subscriber: Send + 'static {
    /// Handles one event. It may take its time: only its own queue waits.
    fn receive(&mut self, published: &Published);
}

impl<F: FnMut(&Published) + Send + 'static> Subscriber for F {
    fn receive(&mut self, published: &Published) {
        self(published)
    }
}

/// The bus. Cloning shares it.
#[derive(Clone, Default)]
pub struct EventBus {
    inner: Arc<Inner>,
}

struct Inner {
    queues: RwLock<Vec<Queue>>,
    missed: AtomicU64,
    warning: OnceEvery,
}

impl Default for Inner {
    fn default() -> Self {
        Self {
            queues: RwLock::default(),
            missed: AtomicU64::new(0),
            warning: OnceEvery::new(Duration::from_secs(60)),
        }
    }
}

struct Queue {
    name: String,
    sender: SyncSender<Arc<Published>>,
}

impl EventBus {
    /// Adds `subscriber` under `name`, on a thread of its own.
    pub fn subscribe(&self, name: &str, subscriber: impl Subscriber) {
        self.subscribe_with_capacity(name, QUEUE_CAPACITY, subscriber)
    }

    /// Adds `subscriber` with a queue of `capacity` events.
    pub fn subscribe_with_capacity(&self, name: &str, capacity: usize, mut subscriber: impl Subscriber) {
        let (sender, receiver) = sync_channel::<Arc<Published>>(capacity);
        let thread_name = format!("events-{name}");
        let spawned = std::thread::Builder::new().name(thread_name).spawn(move || {
            for published in receiver {
                let handled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    subscriber.receive(&published);
                }));
                if handled.is_err() {
                    tracing::error!(
                        event = published.event.name(),
                        "an event subscriber panicked; it goes on with the next event"
                    );
                }
            }
        });
        match spawned {
            Ok(_) => {
                self.inner.queues.write().expect("bus lock").push(Queue { name: name.to_owned(), sender })
            }
            Err(e) => tracing::error!(error = %e, subscriber = name, "an event subscriber could not start"),
        }
    }

    /// Hands `events` to every subscriber without waiting for any.
    pub fn publish(&self, actor: &Actor, at: DateTime<Utc>, events: &[Event]) {
        let queues = self.inner.queues.read().expect("bus lock");
        if queues.is_empty() {
            return;
        }
        for event in events {
            let published = Arc::new(Published { event: event.clone(), actor: actor.clone(), at });
            for queue in queues.iter() {
                match queue.sender.try_send(published.clone()) {
                    Ok(()) => {}
                    Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => self.missed(&queue.name),
                }
            }
        }
    }

    /// How many events subscribers have missed since start.
    pub fn missed_events(&self) -> u64 {
        self.inner.missed.load(Ordering::Relaxed)
    }

    fn missed(&self, subscriber: &str) {
        let missed = self.inner.missed.fetch_add(1, Ordering::Relaxed) + 1;
        if self.inner.warning.due() {
            tracing::warn!(subscriber, missed, "an event subscriber is behind; it misses events");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::channel;

    fn event(n: usize) -> Event {
        Event::ClientDisabled { client_id: format!("c{n}") }
    }

    #[test]
    fn a_stuck_subscriber_neither_blocks_publishing_nor_others_and_misses_only_past_its_queue() {
        let bus = EventBus::default();
        let actor = Actor::System { job: "test" };
        let (release, stuck) = channel::<()>();
        let (holding, held) = channel::<()>();
        bus.subscribe_with_capacity("stuck", 4, move |_: &Published| {
            holding.send(()).unwrap();
            let _ = stuck.recv();
        });
        let (seen, received) = channel();
        bus.subscribe("counter", move |p: &Published| seen.send(p.event.clone()).unwrap());
        bus.publish(&actor, Utc::now(), &[event(0)]);
        held.recv().unwrap();
        // Returns although the stuck subscriber holds event 0 and never lets go.
        bus.publish(&actor, Utc::now(), &(1..=10).map(event).collect::<Vec<_>>());
        for n in 0..=10 {
            assert_eq!(received.recv().unwrap(), event(n), "the other subscriber gets every event, in order");
        }
        // The stuck one's queue holds four; it missed the other six.
        assert_eq!(bus.missed_events(), 6);
        drop(release);
    }

    #[test]
    fn a_panicking_subscriber_goes_on_with_the_next_event() {
        let bus = EventBus::default();
        let (seen, received) = channel();
        bus.subscribe("fragile", move |p: &Published| {
            if p.event == event(0) {
                panic!("subscriber bug");
            }
            seen.send(p.event.clone()).unwrap();
        });
        bus.publish(&Actor::System { job: "test" }, Utc::now(), &[event(0), event(1)]);
        assert_eq!(received.recv().unwrap(), event(1));
    }
}
