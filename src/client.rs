//! A client with a scripted workload: it sends one request at a time, waits for the
//! reply, may time out and retry, and records every attempt in its history.

use crate::history::{Event, Op, Outcome, Reply, ReqId};
use crate::system::{Msg, Timer};
use stateright::actor::{model_timeout, Actor, Id, Out};
use std::borrow::Cow;

/// One scripted request: what to ask, whom to ask, and its name in the story.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Request {
    /// The server the client sends this request to.
    pub dst: Id,
    /// The operation.
    pub op: Op,
    /// A word for the story ("burrito").
    pub label: &'static str,
}

/// What a client does when a reply is slow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct RetryPolicy {
    /// Whether the client gives up waiting at some point (a timeout can fire at any moment
    /// the request is outstanding: the network is "slow").
    pub timeout: bool,
    /// How many times a timed-out request is sent again before the client moves on.
    pub retries: u8,
    /// Whether requests carry a session token: the newest version this client has
    /// written or read, so a server that is behind can wait or forward.
    pub session_token: bool,
}

/// The client's part of the model: its workload and policy (fixed), not its state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Client {
    /// Index among the model's clients (used in request ids).
    pub index: u8,
    /// Requests, sent in order, one at a time.
    pub workload: Vec<Request>,
    /// Timeout and retry behaviour.
    pub policy: RetryPolicy,
}

/// The client's state: where it is in its workload and what it has seen.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientState {
    /// Index of the request being worked on (== workload length when done).
    pub seq: u8,
    /// Attempt number of the outstanding request.
    pub attempt: u8,
    /// Every attempt so far and its outcome.
    pub log: Vec<Event>,
    /// Newest version this client has written or read (its session token).
    pub token: u8,
}

impl Client {
    /// The first send, at start-up.
    pub fn start<P, A>(&self, o: &mut Out<A>) -> ClientState
    where
        A: Actor<Msg = Msg<P>, Timer = Timer>,
    {
        let mut state = ClientState {
            seq: 0,
            attempt: 0,
            log: Vec::new(),
            token: 0,
        };
        self.send_current(&mut state, o);
        state
    }

    /// The request currently outstanding, if any.
    pub fn current(&self, state: &ClientState) -> Option<&Request> {
        self.workload.get(state.seq as usize)
    }

    fn send_current<P, A>(&self, state: &mut ClientState, o: &mut Out<A>)
    where
        A: Actor<Msg = Msg<P>, Timer = Timer>,
    {
        let Some(req) = self.workload.get(state.seq as usize) else {
            return;
        };
        let id = ReqId {
            client: self.index,
            seq: state.seq,
            attempt: state.attempt,
        };
        state.log.push(Event {
            id,
            op: req.op,
            outcome: Outcome::Pending,
        });
        let token = if self.policy.session_token {
            state.token
        } else {
            0
        };
        o.send(
            req.dst,
            Msg::Request {
                id,
                op: req.op,
                token,
            },
        );
        if self.policy.timeout {
            o.set_timer(Timer::Request, model_timeout());
        }
    }

    /// A reply arrived. Replies to anything but the outstanding attempt are ignored.
    pub fn on_reply<P, A>(
        &self,
        state: &mut Cow<ClientState>,
        id: ReqId,
        reply: Reply,
        o: &mut Out<A>,
    ) where
        A: Actor<Msg = Msg<P>, Timer = Timer>,
    {
        if id.client != self.index || id.seq != state.seq || id.attempt != state.attempt {
            return;
        }
        let st = state.to_mut();
        if let Some(last) = st.log.last_mut() {
            last.outcome = Outcome::Replied(reply);
        }
        if let Reply::Written { version } | Reply::Value { version, .. } = reply {
            if self.policy.session_token {
                st.token = st.token.max(version);
            }
        }
        if self.policy.timeout {
            o.cancel_timer(Timer::Request);
        }
        st.seq += 1;
        st.attempt = 0;
        self.send_current(st, o);
    }

    /// The client stops waiting: it records a timeout and retries or moves on.
    pub fn on_timeout<P, A>(&self, state: &mut Cow<ClientState>, o: &mut Out<A>)
    where
        A: Actor<Msg = Msg<P>, Timer = Timer>,
    {
        if self.current(state).is_none() {
            return;
        }
        let st = state.to_mut();
        if let Some(last) = st.log.last_mut() {
            last.outcome = Outcome::TimedOut;
        }
        if st.attempt < self.policy.retries {
            st.attempt += 1;
        } else {
            st.seq += 1;
            st.attempt = 0;
        }
        self.send_current(st, o);
    }

    /// A message for this client inside a model's actor: a reply moves the workload on.
    /// Returns the new client state when it changed (`None`: nothing to do, which
    /// stateright then prunes as a no-op).
    pub fn receive<P, A>(
        &self,
        st: &ClientState,
        msg: Msg<P>,
        o: &mut Out<A>,
    ) -> Option<ClientState>
    where
        A: Actor<Msg = Msg<P>, Timer = Timer>,
    {
        let Msg::Reply { id, reply } = msg else {
            return None;
        };
        let mut cs = Cow::Borrowed(st);
        self.on_reply(&mut cs, id, reply, o);
        match cs {
            Cow::Owned(cs) => Some(cs),
            Cow::Borrowed(_) => None,
        }
    }

    /// Whether this client ignores `msg` for good: a reply to another client, or to an
    /// attempt older than the one it waits for (its request and attempt numbers only
    /// grow), changes nothing now and never will (see
    /// [`crate::system::Node::ignores_for_good`]).
    pub fn ignores_for_good<P>(&self, st: &ClientState, msg: &Msg<P>) -> bool {
        match msg {
            Msg::Reply { id, .. } => {
                id.client != self.index || (id.seq, id.attempt) < (st.seq, st.attempt)
            }
            _ => false,
        }
    }

    /// This client's timer fired inside a model's actor; returns the new state if changed.
    pub fn time_out<P, A>(&self, st: &ClientState, o: &mut Out<A>) -> Option<ClientState>
    where
        A: Actor<Msg = Msg<P>, Timer = Timer>,
    {
        let mut cs = Cow::Borrowed(st);
        self.on_timeout(&mut cs, o);
        match cs {
            Cow::Owned(cs) => Some(cs),
            Cow::Borrowed(_) => None,
        }
    }

    /// Short facts for traces: what the client waits for.
    pub fn facts(&self, state: &ClientState) -> Vec<(&'static str, String)> {
        let status = match self.current(state) {
            Some(req) => {
                let seq = state.seq as usize;
                let same = self
                    .workload
                    .iter()
                    .filter(|r| r.label == req.label)
                    .count();
                let nth = self.workload[..=seq]
                    .iter()
                    .filter(|r| r.label == req.label)
                    .count();
                let name = if same > 1 {
                    format!("{} #{nth}", req.label)
                } else {
                    req.label.to_string()
                };
                if state.attempt == 0 {
                    format!("waiting for {name}")
                } else {
                    format!("waiting for {name} (retry {})", state.attempt)
                }
            }
            None => "done".to_string(),
        };
        vec![("", status)]
    }
}
