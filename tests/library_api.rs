//! The library API from outside the crate: a model written with the harness's types (as
//! a user would in their own crate), asserted on in ordinary `#[test]`s with
//! `splitbrain::testing`.

use splitbrain::client::{Client, ClientState, Request, RetryPolicy};
use splitbrain::history::{Op, Reply};
use splitbrain::property::{ClientSteps, Kind, Property};
use splitbrain::session;
use splitbrain::system::{Faults, Msg, NetworkKind, Node, System, Timer};
use splitbrain::testing::{assert_holds, assert_violated_within, check_property, Outcome};
use stateright::actor::{Actor, Id, Out};
use std::borrow::Cow;

/// The user's own model: a database that copies each write to a follower.
#[derive(Clone, Debug)]
enum MyNode {
    Db {
        follower: Id,
    },
    /// `ignores(mine, copy)`: whether the follower, holding version `mine`, is declared
    /// to ignore a copy of version `copy` for good (`Node::ignores_for_good`).
    Follower {
        ignores: fn(u8, u8) -> bool,
    },
    Client(Client),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum MyState {
    Data { version: u8, value: u8 },
    Client(ClientState),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Copy {
    version: u8,
    value: u8,
}

impl Actor for MyNode {
    type Msg = Msg<Copy>;
    type Timer = Timer;
    type State = MyState;
    type Storage = ();
    type Random = ();

    fn on_start(&self, _id: Id, _s: &Option<()>, o: &mut Out<Self>) -> MyState {
        match self {
            MyNode::Client(c) => MyState::Client(c.start(o)),
            _ => MyState::Data {
                version: 0,
                value: 0,
            },
        }
    }

    fn on_msg(
        &self,
        _id: Id,
        state: &mut Cow<MyState>,
        src: Id,
        msg: Msg<Copy>,
        o: &mut Out<Self>,
    ) {
        match (self, &**state, msg) {
            (MyNode::Client(c), MyState::Client(st), Msg::Reply { id, reply }) => {
                let mut cs = Cow::Borrowed(st);
                c.on_reply(&mut cs, id, reply, o);
                if let Cow::Owned(cs) = cs {
                    *state.to_mut() = MyState::Client(cs);
                }
            }
            (
                MyNode::Db { follower },
                MyState::Data { version, .. },
                Msg::Request {
                    id,
                    op: Op::Write { value, .. },
                    ..
                },
            ) => {
                let version = version + 1;
                *state.to_mut() = MyState::Data { version, value };
                o.send(
                    src,
                    Msg::Reply {
                        id,
                        reply: Reply::Written { version },
                    },
                );
                o.send(*follower, Msg::Peer(Copy { version, value }));
            }
            (
                _,
                MyState::Data { version, value },
                Msg::Request {
                    id,
                    op: Op::Read { .. },
                    ..
                },
            ) => {
                let reply = Reply::Value {
                    value: *value,
                    version: *version,
                };
                o.send(src, Msg::Reply { id, reply });
            }
            (
                MyNode::Follower { .. },
                MyState::Data { version: mine, .. },
                Msg::Peer(Copy { version, value }),
            ) if version > *mine => {
                *state.to_mut() = MyState::Data { version, value };
            }
            _ => {}
        }
    }
}

impl Node for MyNode {
    type Peer = Copy;
    fn as_client(&self) -> Option<&Client> {
        match self {
            MyNode::Client(c) => Some(c),
            _ => None,
        }
    }
    fn client_state(state: &MyState) -> Option<&ClientState> {
        match state {
            MyState::Client(c) => Some(c),
            MyState::Data { .. } => None,
        }
    }
    fn facts(&self, state: &MyState) -> Vec<(&'static str, String)> {
        match (self, state) {
            (MyNode::Client(c), MyState::Client(s)) => c.facts(s),
            (_, MyState::Data { version, .. }) => vec![("x", format!("v{version}"))],
            _ => Vec::new(),
        }
    }
    fn describe_peer(msg: &Copy) -> String {
        format!("copy x v{}", msg.version)
    }
    fn ignores_for_good(&self, state: &MyState, _src: Id, msg: &Msg<Copy>) -> bool {
        match (self, state, msg) {
            (MyNode::Follower { ignores }, MyState::Data { version, .. }, Msg::Peer(copy)) => {
                ignores(*version, copy.version)
            }
            (MyNode::Client(c), MyState::Client(st), _) => c.ignores_for_good(st, msg),
            _ => false,
        }
    }
}

/// Jose writes to the database, then reads from `read_from`.
fn model(read_from: usize) -> System<MyNode> {
    let (db, follower) = (Id::from(0), Id::from(1));
    let client = Client {
        index: 0,
        workload: vec![
            Request {
                dst: db,
                op: Op::Write { key: 0, value: 7 },
                label: "save",
            },
            Request {
                dst: Id::from(read_from),
                op: Op::Read { key: 0 },
                label: "load",
            },
        ],
        policy: RetryPolicy::default(),
    };
    let copies_agree: Property<System<MyNode>> = Property {
        name: "copies_agree",
        claim: "when nothing is in flight, the database and the follower hold the same version",
        kind: Kind::Eventually,
        client_steps: ClientSteps::Invisible,
        check: |sys, s| {
            let v: Vec<_> = sys
                .nodes(s)
                .filter(|(_, a, _)| a.as_client().is_none())
                .map(|(_, _, st)| st.clone())
                .collect();
            v.windows(2).all(|w| w[0] == w[1])
        },
        values: |_, _| String::new(),
    };
    System::new(
        vec![
            ("db".into(), MyNode::Db { follower }),
            (
                "follower".into(),
                MyNode::Follower {
                    ignores: |mine, copy| copy <= mine,
                },
            ),
            ("jose".into(), MyNode::Client(client)),
        ],
        Faults {
            network: NetworkKind::Unordered,
            loss: 0,
            crashes: 0,
        },
        vec![session::read_your_writes_property::<MyNode>(), copies_agree],
    )
}

#[test]
fn reading_from_the_database_keeps_read_your_writes() {
    assert_holds(&model(0), "read_your_writes");
    assert_holds(&model(0), "copies_agree");
}

#[test]
fn reading_from_the_follower_breaks_read_your_writes_in_four_steps() {
    let trace = assert_violated_within(&model(1), "read_your_writes", 4);
    assert_eq!(trace.len(), 4);
    assert!(
        trace.to_text().contains("jose -> follower"),
        "{}",
        trace.to_text()
    );
    assert_holds(&model(1), "copies_agree");
}

#[test]
fn a_failing_assertion_prints_the_story() {
    let msg = std::panic::catch_unwind(|| assert_holds(&model(1), "read_your_writes"))
        .expect_err("the assertion fails")
        .downcast::<String>()
        .expect("a message");
    assert!(msg.contains("VIOLATED (shortest: 4 steps)"), "{msg}");
    assert!(msg.contains("1.  jose -> db"), "{msg}");
    assert!(
        msg.contains("read x at version 0 after its own write of version 1"),
        "{msg}"
    );

    let msg = std::panic::catch_unwind(|| assert_violated_within(&model(1), "read_your_writes", 3))
        .expect_err("no 3-step counterexample")
        .downcast::<String>()
        .expect("a message");
    assert!(msg.contains("not violated within 3 steps"), "{msg}");

    let msg =
        std::panic::catch_unwind(|| assert_violated_within(&model(0), "read_your_writes", 10))
            .expect_err("it holds")
            .downcast::<String>()
            .expect("a message");
    assert!(msg.contains("holds"), "{msg}");
    assert!(matches!(
        check_property(&model(0), "read_your_writes", &Default::default()),
        Outcome::Holds
    ));
}

/// A declaration that a follower ignores messages it does read is caught by the
/// reduction audit, with the message named; the model's own declaration (a copy of a
/// version the follower already holds) passes.
#[test]
fn the_reduction_audit_catches_a_message_declared_ignored_that_is_read() {
    use splitbrain::reduction::audit;
    audit(&model(1), 10_000).expect("the follower ignores only copies it holds");
    let mut wrong = model(1);
    wrong.actors.actors[1] = MyNode::Follower {
        ignores: |_, _| true,
    };
    let err = audit(&wrong, 10_000).unwrap_err();
    assert!(
        err.contains(
            "follower is declared to ignore copy x v1 for good, but receiving it changes something"
        ),
        "{err}"
    );
}
