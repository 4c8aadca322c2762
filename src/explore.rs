//! `splitbrain explore`: stateright's Explorer web UI for a model, with actors and
//! messages in the model's words.
//!
//! The Explorer shows each state's `Debug` text and each action's `format_action`. A
//! [`System`] state alone does not know its actors' names, so the explored model wraps
//! every state with a shared handle on the system ([`Shown`]) whose `Debug` tells the
//! state as splitbrain's traces do; hashing and equality still look at the state alone.

use crate::error::Error;
use crate::system::{Node, SysState, System};
use crate::trace::Narrate;
use stateright::actor::ActorModelAction;
use stateright::{Expectation, Model};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

/// A [`System`] as the Explorer sees it.
pub struct Explored<A: Node> {
    sys: Arc<System<A>>,
}

/// A state with a handle on its system, so that it can tell itself by name.
pub struct Shown<A: Node> {
    /// The state.
    pub inner: SysState<A>,
    sys: Arc<System<A>>,
}

impl<A: Node> Clone for Shown<A> {
    fn clone(&self) -> Self {
        Shown {
            inner: self.inner.clone(),
            sys: Arc::clone(&self.sys),
        }
    }
}
impl<A: Node> PartialEq for Shown<A> {
    fn eq(&self, other: &Self) -> bool {
        self.inner == other.inner
    }
}
impl<A: Node> Hash for Shown<A> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.inner.hash(h);
    }
}
impl<A: Node> fmt::Debug for Shown<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&describe_state(&self.sys, &self.inner))
    }
}

/// Every actor's facts and every message in flight, by name.
pub fn describe_state<A: Node>(sys: &System<A>, s: &SysState<A>) -> String {
    let mut out = String::new();
    for line in sys.start(s) {
        out.push_str(&line);
        out.push('\n');
    }
    for (i, crashed) in s.net.crashed.iter().enumerate() {
        if *crashed {
            out.push_str(&format!("{} is down\n", sys.names[i]));
        }
    }
    let msgs: Vec<String> = sys
        .in_flight(s)
        .map(|e| {
            sys.format_action(&ActorModelAction::Deliver {
                src: e.src,
                dst: e.dst,
                msg: e.msg.clone(),
            })
        })
        .collect();
    if msgs.is_empty() {
        out.push_str("in flight: nothing\n");
    } else {
        out.push_str("in flight:\n");
        for m in msgs {
            out.push_str(&format!("  {m}\n"));
        }
    }
    if s.lost > 0 {
        out.push_str(&format!("messages lost so far: {}\n", s.lost));
    }
    out
}

/// Properties as the Explorer wants them: plain function pointers. Property `I` of the
/// system is checked by the `I`-th instance of this function.
fn property_at<A: Node, const I: usize>(m: &Explored<A>, s: &Shown<A>) -> bool {
    (m.sys.properties[I].check)(&m.sys, &s.inner)
}

/// A property check as the Explorer's model calls it.
type ExploredCheck<A> = fn(&Explored<A>, &Shown<A>) -> bool;

/// The most properties the Explorer shows for one model.
pub const MAX_EXPLORED_PROPERTIES: usize = 12;

impl<A: Node> Explored<A> {
    fn checks() -> [ExploredCheck<A>; MAX_EXPLORED_PROPERTIES] {
        [
            property_at::<A, 0>,
            property_at::<A, 1>,
            property_at::<A, 2>,
            property_at::<A, 3>,
            property_at::<A, 4>,
            property_at::<A, 5>,
            property_at::<A, 6>,
            property_at::<A, 7>,
            property_at::<A, 8>,
            property_at::<A, 9>,
            property_at::<A, 10>,
            property_at::<A, 11>,
        ]
    }
}

impl<A: Node> Model for Explored<A> {
    type State = Shown<A>;
    type Action = <System<A> as Model>::Action;

    fn init_states(&self) -> Vec<Self::State> {
        self.sys
            .init_states()
            .into_iter()
            .map(|inner| Shown {
                inner,
                sys: Arc::clone(&self.sys),
            })
            .collect()
    }

    fn actions(&self, state: &Self::State, actions: &mut Vec<Self::Action>) {
        self.sys.actions(&state.inner, actions);
    }

    fn next_state(&self, last: &Self::State, action: Self::Action) -> Option<Self::State> {
        self.sys.next_state(&last.inner, action).map(|inner| Shown {
            inner,
            sys: Arc::clone(&self.sys),
        })
    }

    fn format_action(&self, action: &Self::Action) -> String {
        self.sys.format_action(action)
    }

    fn format_step(&self, last: &Self::State, action: Self::Action) -> Option<String> {
        let next = self.sys.next_state(&last.inner, action.clone())?;
        let step = self.sys.step(&last.inner, &action, &next);
        let mut out = self.sys.format_action(&action);
        if !step.changes.is_empty() {
            out.push_str(&format!("\n{}", step.changes.join("\n")));
        }
        out.push_str(&format!("\n\n{}", describe_state(&self.sys, &next)));
        Some(out)
    }

    fn properties(&self) -> Vec<stateright::Property<Self>> {
        let checks = Self::checks();
        self.sys
            .properties
            .iter()
            .zip(checks)
            .map(|(p, check)| stateright::Property {
                expectation: match p.kind {
                    crate::property::Kind::Always => Expectation::Always,
                    crate::property::Kind::Eventually => Expectation::Eventually,
                    crate::property::Kind::Sometimes => Expectation::Sometimes,
                },
                name: p.name,
                condition: check,
            })
            .collect()
    }
}

/// Serves the Explorer for `sys` on `addr` until the process is stopped. Fails with a
/// clear error if the address cannot be bound.
pub fn serve<A>(sys: System<A>, addr: SocketAddr) -> Result<(), Error>
where
    A: Node + 'static,
{
    if sys.properties.len() > MAX_EXPLORED_PROPERTIES {
        return Err(Error::BadInput(format!(
            "this model declares {} properties; the explorer shows at most {MAX_EXPLORED_PROPERTIES}",
            sys.properties.len()
        )));
    }
    // Bind first, to turn a busy or forbidden address into an error instead of a panic
    // inside the Explorer's server.
    let probe = TcpListener::bind(addr)
        .map_err(|e| Error::BadInput(format!("cannot listen on {addr}: {e}")))?;
    if !addr.ip().is_loopback() {
        eprintln!(
            "splitbrain: warning: the Explorer on {addr} is reachable from other machines (it has no authentication); use 127.0.0.1 to keep it local"
        );
    }
    let addr = probe
        .local_addr()
        .map_err(|e| Error::BadInput(format!("cannot listen on {addr}: {e}")))?;
    drop(probe);
    println!("Explorer: http://{addr}/  (Ctrl-C to stop)");
    let explored = Explored { sys: Arc::new(sys) };
    let _ = explored.checker().serve(addr);
    Ok(())
}
