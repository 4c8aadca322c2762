//! The stateless system: a load balancer in front of two static file servers.
//!
//! Clients GET static files through a load balancer (lb), which forwards each request to
//! either server (the checker tries both: the lb's choice is a step of its own, "lb picks
//! server2 for jose's GET /index.html"). The server answers the lb, and the lb relays the
//! content to the client: replies travel back through the lb. While clients browse, an
//! operator deploys a new version of index.html (v1 -> v2) to every server; once every
//! server has confirmed (and, in the purge variants, the lb has purged its cache), the
//! operator opens the home page to check the release.
//!
//! The article's failure modes are the network's: "down" is message loss (`--loss`:
//! requests, replies and lb <-> server messages may be lost; the deploy tool retries, so
//! deploys and purges are not), "slow" is delay plus client timeouts (a client may give up waiting at
//! any moment: it shows an error and moves on to its next GET, without retrying). A
//! stateless system answers with the right file or not at all, and a late answer to an
//! abandoned GET is never taken for the answer to the next one. A cache in the lb that
//! nobody invalidates breaks the first promise: the operator, who has just deployed v2
//! everywhere, is served v1 from the lb's cache. Purging the cache after the release is
//! not enough either: a v1 answer still in flight from before the deploy fills the cache
//! again after the purge. The fix that holds: the purge names the live version and the
//! lb never caches an older one again (a floor it keeps on disk, so that a restart of the
//! lb does not forget it).
//!
//! Servers keep their files on disk: a crash (`--crashes`) loses nothing but time. The lb
//! keeps its cache in memory (a crash empties it) and its cache floors on disk.

use crate::architecture::{Architecture, Buildable, Variant};
use crate::bounds::Bounds;
use crate::client::{Client, ClientState, Request, RetryPolicy};
use crate::error::Error;
use crate::history::{file_name, Event, Op, Outcome, Reply, ReqId};
use crate::property::{ClientSteps, Kind, Property};
use crate::report::Verdict;
use crate::symmetry::Renaming;
use crate::system::{Msg, NetworkKind, Node as NodeTrait, SysState, System, Timer};
use stateright::actor::{Actor, Id, Out};
use std::borrow::Cow;
use std::fmt;

/// Static files served: index.html (file 0) and logo.png (file 1).
pub const FILES: usize = 2;
/// The file the operator deploys (index.html).
pub const DEPLOYED_FILE: u8 = 0;
/// Every file starts at version 1; the operator deploys this version of index.html.
pub const NEW_VERSION: u8 = 2;

/// How the load balancer answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Every request is forwarded to a server.
    Forward,
    /// The lb keeps the content it relayed in a cache and answers later requests for the
    /// same file from it; nothing invalidates the cache when files change.
    StaleCache,
    /// The same cache; after the release the operator purges the deployed file from it,
    /// then checks the site.
    Purge,
    /// The purge also says which version is now live; the lb never again caches an older
    /// one (it keeps that floor on disk).
    VersionedPurge,
}

impl Mode {
    /// Whether the lb caches what it relays.
    pub fn caches(self) -> bool {
        self != Mode::Forward
    }

    /// Whether the operator purges the lb's cache after the release.
    pub fn purges(self) -> bool {
        matches!(self, Mode::Purge | Mode::VersionedPurge)
    }
}

/// Messages between the lb, the servers and the operator.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Peer {
    /// lb -> server: a client's GET.
    Forward {
        /// The client's request id.
        id: ReqId,
        /// The client to answer (through the lb).
        client: Id,
        /// The file asked for.
        file: u8,
    },
    /// server -> lb: the content of a file, for a client's request.
    Content {
        /// The client's request id.
        id: ReqId,
        /// The client to relay it to.
        client: Id,
        /// The file.
        file: u8,
        /// The version of its content.
        version: u8,
    },
    /// operator -> server: install this version of a file.
    Deploy {
        /// The file.
        file: u8,
        /// Its new version.
        version: u8,
    },
    /// server -> operator: the version is installed.
    Deployed {
        /// The file.
        file: u8,
        /// The version installed.
        version: u8,
    },
    /// operator -> lb: drop this file from the cache; `version` is now live.
    Purge {
        /// The file.
        file: u8,
        /// The version now on every server.
        version: u8,
    },
    /// lb -> operator: the file is out of the cache.
    Purged {
        /// The file.
        file: u8,
    },
}

/// The lb's choice of server for one request (a step of its own in traces).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Route {
    /// The chosen server.
    pub server: Id,
    /// Its 1-based number, for the story.
    pub number: u8,
    /// The requesting client's name, for the story.
    pub who: &'static str,
    /// The client's request id.
    pub id: ReqId,
    /// The client.
    pub client: Id,
    /// The file asked for.
    pub file: u8,
}

// stateright prints the choice with `Debug`: make it the story's words.
impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "server{} for {}'s GET /{}",
            self.number,
            self.who,
            file_name(self.file)
        )?;
        if self.id.attempt > 0 {
            write!(f, " (retry {})", self.id.attempt)?;
        }
        Ok(())
    }
}

/// The load balancer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Lb {
    /// Caching or not.
    pub mode: Mode,
    /// A seeded bug, in mutants only.
    pub bug: Option<Bug>,
    /// The servers behind it.
    pub servers: Vec<Id>,
    /// The clients' names (to tell routing choices).
    pub clients: Vec<(Id, &'static str)>,
}

/// The lb's state. The cache is in memory (a crash empties it); the floors are on disk.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LbState {
    /// Cached version of each file, if any.
    pub cache: [Option<u8>; FILES],
    /// What was served from the cache, (file, version), each noted once, in order.
    pub hits: Vec<(u8, u8)>,
    /// Oldest version of each file the lb may cache (0: any), set by versioned purges.
    pub floor: [u8; FILES],
}

/// What actors keep on disk.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Disk {
    /// A server's files.
    Server(ServerState),
    /// The lb's cache floors.
    Lb([u8; FILES]),
}

/// A static file server.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Server {
    /// A seeded bug, in mutants only.
    pub bug: Option<Bug>,
}

/// A seeded bug (a mutant of the `versioned-purge` fix), for proving the properties catch it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bug {
    /// The lb caches whatever it relays, ignoring the floor a purge set.
    FloorNotChecked,
    /// The lb acknowledges a purge but keeps the cached copy.
    PurgeKeepsCache,
    /// The lb sets the floor one version too low.
    FloorOffByOne,
    /// A server answers with the other file's content.
    WrongFile,
    /// A server acknowledges a deploy without writing the file.
    DeployAckBeforeWrite,
}

/// A server's files (on disk: saved on every deploy).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServerState {
    /// Version of each file.
    pub files: [u8; FILES],
}

/// The operator: deploys a new version of a file to every server, then checks the site.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Operator {
    /// The servers deployed to.
    pub servers: Vec<Id>,
    /// The file deployed.
    pub file: u8,
    /// Its new version.
    pub version: u8,
    /// The lb whose cache is purged after the release, if the variant purges.
    pub purge: Option<Id>,
    /// The check of the site after the release (a GET through the lb).
    pub client: Client,
}

/// The operator's state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OperatorState {
    /// Servers that confirmed the deploy, one bit per server.
    pub confirmed: u8,
    /// Whether the lb confirmed the purge.
    pub purged: bool,
    /// The site check (not started before every server confirmed, and the lb the purge).
    pub client: ClientState,
}

/// The actors of this model.
#[derive(Clone, Debug)]
pub enum Node {
    /// The load balancer.
    Lb(Lb),
    /// A static file server.
    Server(Server),
    /// The operator.
    Operator(Operator),
    /// A client browsing the site.
    Client(Client),
}

/// Actor states.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NodeState {
    /// The lb's.
    Lb(LbState),
    /// A server's.
    Server(ServerState),
    /// The operator's.
    Operator(OperatorState),
    /// A client's.
    Client(ClientState),
}

impl Operator {
    fn released(&self, st: &OperatorState) -> bool {
        st.confirmed.count_ones() as usize == self.servers.len()
    }

    /// Everything before the site check is done: deployed everywhere, purged if purging.
    fn ready(&self, st: &OperatorState) -> bool {
        self.released(st) && (self.purge.is_none() || st.purged)
    }

    /// The site check starts (or, when purging, the purge first).
    fn after_release(&self, st: &mut OperatorState, o: &mut Out<Node>) {
        match self.purge {
            Some(lb) if !st.purged => o.send(
                lb,
                Msg::Peer(Peer::Purge {
                    file: self.file,
                    version: self.version,
                }),
            ),
            _ => st.client = self.client.start(o),
        }
    }

    fn status(&self, st: &OperatorState) -> String {
        if self.released(st) && !self.ready(st) {
            format!(
                "released, purging {} from the lb cache",
                file_name(self.file)
            )
        } else if self.released(st) {
            match self.client.facts(&st.client).into_iter().next() {
                Some((_, s)) if s != "done" => format!("released, {s}"),
                _ => "released, checked the site".to_string(),
            }
        } else {
            format!(
                "deploying {} v{} ({}/{} servers)",
                file_name(self.file),
                self.version,
                st.confirmed.count_ones(),
                self.servers.len()
            )
        }
    }
}

impl Lb {
    fn on_msg(&self, st: &mut LbState, src: Id, msg: Msg<Peer>, o: &mut Out<Node>) {
        match msg {
            Msg::Request {
                id,
                op: Op::Get { file },
                ..
            } => {
                if let Some(version) = st.cache.get(file as usize).copied().flatten() {
                    // Each (file, version) served from the cache is noted once: enough
                    // for the story, and finite on a duplicating network.
                    if !st.hits.contains(&(file, version)) {
                        st.hits.push((file, version));
                    }
                    o.send(
                        src,
                        Msg::Reply {
                            id,
                            reply: Reply::File { file, version },
                        },
                    );
                    return;
                }
                let who = self
                    .clients
                    .iter()
                    .find(|(id, _)| *id == src)
                    .map_or("?", |(_, n)| *n);
                let routes = self
                    .servers
                    .iter()
                    .enumerate()
                    .map(|(i, &server)| Route {
                        server,
                        number: i as u8 + 1,
                        who,
                        id,
                        client: src,
                        file,
                    })
                    .collect();
                o.choose_random(
                    format!("{src} {} {} {}", id.client, id.seq, id.attempt),
                    routes,
                );
            }
            Msg::Request { id, .. } => o.send(
                src,
                Msg::Reply {
                    id,
                    reply: Reply::Error,
                },
            ),
            Msg::Peer(Peer::Content {
                id,
                client,
                file,
                version,
            }) => {
                let floor = st.floor.get(file as usize).copied().unwrap_or(0);
                let floor = if self.bug == Some(Bug::FloorNotChecked) {
                    0
                } else {
                    floor
                };
                if self.mode.caches() && version >= floor {
                    if let Some(slot) = st.cache.get_mut(file as usize) {
                        *slot = Some(version);
                    }
                }
                o.send(
                    client,
                    Msg::Reply {
                        id,
                        reply: Reply::File { file, version },
                    },
                );
            }
            Msg::Peer(Peer::Purge { file, version }) if self.mode.purges() => {
                if self.bug != Some(Bug::PurgeKeepsCache) {
                    if let Some(slot) = st.cache.get_mut(file as usize) {
                        *slot = None;
                    }
                }
                if self.mode == Mode::VersionedPurge {
                    let version = if self.bug == Some(Bug::FloorOffByOne) {
                        version.saturating_sub(1)
                    } else {
                        version
                    };
                    if let Some(f) = st.floor.get_mut(file as usize) {
                        *f = (*f).max(version);
                    }
                    o.save(Disk::Lb(st.floor));
                }
                o.send(src, Msg::Peer(Peer::Purged { file }));
            }
            Msg::Peer(_) | Msg::Reply { .. } => {}
        }
    }
}

impl Actor for Node {
    type Msg = Msg<Peer>;
    type Timer = Timer;
    type State = NodeState;
    type Storage = Disk;
    type Random = Route;

    fn on_start(&self, _id: Id, storage: &Option<Self::Storage>, o: &mut Out<Self>) -> NodeState {
        match self {
            Node::Lb(_) => NodeState::Lb(LbState {
                cache: [None; FILES],
                hits: Vec::new(),
                floor: match storage {
                    Some(Disk::Lb(floor)) => *floor,
                    _ => [0; FILES],
                },
            }),
            Node::Server(_) => NodeState::Server(match storage {
                Some(Disk::Server(saved)) => saved.clone(),
                _ => ServerState { files: [1; FILES] },
            }),
            Node::Operator(op) => {
                for &s in &op.servers {
                    o.send(
                        s,
                        Msg::Peer(Peer::Deploy {
                            file: op.file,
                            version: op.version,
                        }),
                    );
                }
                NodeState::Operator(OperatorState {
                    confirmed: 0,
                    purged: false,
                    client: ClientState {
                        seq: 0,
                        attempt: 0,
                        log: Vec::new(),
                        token: 0,
                    },
                })
            }
            Node::Client(c) => NodeState::Client(c.start(o)),
        }
    }

    fn on_msg(
        &self,
        _id: Id,
        state: &mut Cow<NodeState>,
        src: Id,
        msg: Msg<Peer>,
        o: &mut Out<Self>,
    ) {
        match (self, &**state) {
            (Node::Lb(lb), NodeState::Lb(st)) => {
                let mut next = st.clone();
                lb.on_msg(&mut next, src, msg, o);
                if next != *st {
                    *state.to_mut() = NodeState::Lb(next);
                }
            }
            (Node::Server(server), NodeState::Server(st)) => match msg {
                Msg::Peer(Peer::Forward { id, client, file }) => {
                    let file = if server.bug == Some(Bug::WrongFile) {
                        (file + 1) % FILES as u8
                    } else {
                        file
                    };
                    let version = st.files.get(file as usize).copied().unwrap_or(0);
                    o.send(
                        src,
                        Msg::Peer(Peer::Content {
                            id,
                            client,
                            file,
                            version,
                        }),
                    );
                }
                Msg::Peer(Peer::Deploy { file, version }) => {
                    let mut next = st.clone();
                    if server.bug != Some(Bug::DeployAckBeforeWrite) {
                        if let Some(slot) = next.files.get_mut(file as usize) {
                            *slot = version;
                        }
                    }
                    o.save(Disk::Server(next.clone()));
                    o.send(src, Msg::Peer(Peer::Deployed { file, version }));
                    if next != *st {
                        *state.to_mut() = NodeState::Server(next);
                    }
                }
                _ => {}
            },
            (Node::Operator(op), NodeState::Operator(st)) => match msg {
                Msg::Peer(Peer::Deployed { .. }) => {
                    let Some(bit) = op.servers.iter().position(|&s| s == src) else {
                        return;
                    };
                    if st.confirmed & (1 << bit) != 0 {
                        return;
                    }
                    let mut next = st.clone();
                    next.confirmed |= 1 << bit;
                    if op.released(&next) {
                        op.after_release(&mut next, o);
                    }
                    *state.to_mut() = NodeState::Operator(next);
                }
                Msg::Peer(Peer::Purged { .. }) if op.released(st) && !st.purged => {
                    let mut next = st.clone();
                    next.purged = true;
                    op.after_release(&mut next, o);
                    *state.to_mut() = NodeState::Operator(next);
                }
                Msg::Reply { id, reply } => {
                    let mut cs = Cow::Borrowed(&st.client);
                    op.client.on_reply(&mut cs, id, reply, o);
                    if let Cow::Owned(cs) = cs {
                        *state.to_mut() = NodeState::Operator(OperatorState {
                            client: cs,
                            ..st.clone()
                        });
                    }
                }
                _ => {}
            },
            (Node::Client(c), NodeState::Client(st)) => {
                if let Some(cs) = c.receive(st, msg, o) {
                    *state.to_mut() = NodeState::Client(cs);
                }
            }
            _ => {}
        }
    }

    fn on_timeout(&self, _id: Id, state: &mut Cow<NodeState>, _t: &Timer, o: &mut Out<Self>) {
        match (self, &**state) {
            (Node::Client(c), NodeState::Client(st)) => {
                if let Some(cs) = c.time_out(st, o) {
                    *state.to_mut() = NodeState::Client(cs);
                }
            }
            (Node::Operator(op), NodeState::Operator(st)) => {
                let mut cs = Cow::Borrowed(&st.client);
                op.client.on_timeout(&mut cs, o);
                if let Cow::Owned(cs) = cs {
                    *state.to_mut() = NodeState::Operator(OperatorState {
                        client: cs,
                        ..st.clone()
                    });
                }
            }
            _ => {}
        }
    }

    fn on_random(&self, _id: Id, _state: &mut Cow<NodeState>, route: &Route, o: &mut Out<Self>) {
        if let Node::Lb(_) = self {
            o.send(
                route.server,
                Msg::Peer(Peer::Forward {
                    id: route.id,
                    client: route.client,
                    file: route.file,
                }),
            );
        }
    }
}

fn files_text(files: &[Option<u8>]) -> String {
    let cached: Vec<String> = files
        .iter()
        .enumerate()
        .filter_map(|(f, v)| v.map(|v| format!("{} v{v}", file_name(f as u8))))
        .collect();
    if cached.is_empty() {
        "empty".to_string()
    } else {
        cached.join(", ")
    }
}

impl NodeTrait for Node {
    type Peer = Peer;

    fn as_client(&self) -> Option<&Client> {
        match self {
            Node::Client(c) => Some(c),
            Node::Operator(op) => Some(&op.client),
            Node::Lb(_) | Node::Server(_) => None,
        }
    }

    fn client_state(state: &NodeState) -> Option<&ClientState> {
        match state {
            NodeState::Client(c) => Some(c),
            NodeState::Operator(op) => Some(&op.client),
            NodeState::Lb(_) | NodeState::Server(_) => None,
        }
    }

    fn facts(&self, state: &NodeState) -> Vec<(&'static str, String)> {
        match (self, state) {
            (Node::Client(c), NodeState::Client(s)) => c.facts(s),
            (Node::Operator(op), NodeState::Operator(s)) => vec![("", op.status(s))],
            (Node::Lb(lb), NodeState::Lb(s)) => match lb.mode {
                Mode::Forward => vec![("", "no cache".to_string())],
                Mode::StaleCache | Mode::Purge | Mode::VersionedPurge => {
                    let hits: Vec<String> = s
                        .hits
                        .iter()
                        .map(|&(f, v)| format!("{} v{v}", file_name(f)))
                        .collect();
                    let mut facts = vec![
                        ("cache", files_text(&s.cache)),
                        (
                            "cache hits",
                            if hits.is_empty() {
                                "none".to_string()
                            } else {
                                hits.join(", ")
                            },
                        ),
                    ];
                    if lb.mode == Mode::VersionedPurge {
                        let floors: Vec<String> = s
                            .floor
                            .iter()
                            .enumerate()
                            .filter(|(_, &v)| v > 0)
                            .map(|(f, v)| format!("{} v{v}", file_name(f as u8)))
                            .collect();
                        facts.push((
                            "cache floor",
                            if floors.is_empty() {
                                "none".to_string()
                            } else {
                                floors.join(", ")
                            },
                        ));
                    }
                    facts
                }
            },
            (_, NodeState::Server(s)) => vec![
                ("index.html", format!("v{}", s.files[0])),
                ("logo.png", format!("v{}", s.files[1])),
            ],
            _ => Vec::new(),
        }
    }

    fn describe_peer(msg: &Peer) -> String {
        match msg {
            Peer::Forward { id, file, .. } => {
                let retry = if id.attempt > 0 {
                    format!(" (retry {})", id.attempt)
                } else {
                    String::new()
                };
                format!("forward GET /{}{retry}", file_name(*file))
            }
            Peer::Content { file, version, .. } => {
                format!("content of /{} v{version}", file_name(*file))
            }
            Peer::Deploy { file, version } => format!("deploy {} v{version}", file_name(*file)),
            Peer::Deployed { file, version } => {
                format!("deployed {} v{version}", file_name(*file))
            }
            Peer::Purge { file, version } => {
                format!(
                    "purge {} from the cache (v{version} is live)",
                    file_name(*file)
                )
            }
            Peer::Purged { file } => format!("purged {}", file_name(*file)),
        }
    }

    fn lossy(msg: &Msg<Peer>) -> bool {
        // The deploy tool retries until every server (and the lb) confirms: deploys and
        // purges are not lost.
        !matches!(
            msg,
            Msg::Peer(
                Peer::Deploy { .. }
                    | Peer::Deployed { .. }
                    | Peer::Purge { .. }
                    | Peer::Purged { .. }
            )
        )
    }

    fn crashable(&self) -> bool {
        matches!(self, Node::Lb(_) | Node::Server(_))
    }

    // Servers are actors 1..=N; the operator's bit k is server k + 1, and a route's
    // number is its server's actor index.
    fn renamed_state(state: &NodeState, r: &Renaming) -> Option<NodeState> {
        Some(match state {
            NodeState::Operator(op) => NodeState::Operator(OperatorState {
                confirmed: r.mask(op.confirmed, 1),
                ..op.clone()
            }),
            other => other.clone(),
        })
    }

    fn renamed_peer(msg: &Peer, _: &Renaming) -> Option<Peer> {
        Some(msg.clone())
    }

    fn renamed_storage(disk: &Disk, _: &Renaming) -> Option<Disk> {
        Some(disk.clone())
    }

    // The lb offers its servers in actor order.
    fn renamed_choices(choices: &[Route], r: &Renaming) -> Option<Vec<Route>> {
        let mut out: Vec<Route> = choices
            .iter()
            .map(|c| Route {
                server: r.id(c.server),
                number: r.index(usize::from(c.number)) as u8,
                ..c.clone()
            })
            .collect();
        out.sort();
        Some(out)
    }
}

/// The model type: lb, servers, operator and clients.
pub type StatelessSystem = System<Node>;

/// One client's view: its name, the file it asked for in each event, and the oldest
/// version of the deployed file it may be served (what was released before it asked).
struct Observer<'a> {
    name: &'a str,
    log: &'a [Event],
    /// The oldest acceptable version of the deployed file for this client's requests.
    floor: u8,
}

/// Every client's history. The operator's site check starts only once every server
/// confirmed the deploy, so every request it makes was sent after the release: it must
/// see the new version. Other clients asked at unknown moments: any deployed version will do.
fn observers<'a>(sys: &'a StatelessSystem, s: &'a SysState<Node>) -> Vec<Observer<'a>> {
    sys.nodes(s)
        .filter_map(|(name, actor, st)| match (actor, st) {
            (Node::Client(_), NodeState::Client(cs)) => Some(Observer {
                name,
                log: &cs.log,
                floor: 1,
            }),
            (Node::Operator(op), NodeState::Operator(os)) => Some(Observer {
                name,
                log: &os.client.log,
                floor: if op.released(os) { op.version } else { 1 },
            }),
            _ => None,
        })
        .collect()
}

/// The newest version of `file` there is.
fn newest(file: u8) -> u8 {
    if file == DEPLOYED_FILE {
        NEW_VERSION
    } else {
        1
    }
}

/// A reply that is not content of the file asked for (in a version that exists), if any.
pub fn wrong_content(who: &str, log: &[Event]) -> Result<(), String> {
    for e in log {
        let Op::Get { file } = e.op else { continue };
        match e.outcome {
            Outcome::Pending | Outcome::TimedOut | Outcome::Replied(Reply::Error) => {}
            Outcome::Replied(Reply::File { file: f, version })
                if f == file && (1..=newest(file)).contains(&version) => {}
            Outcome::Replied(other) => {
                return Err(format!(
                    "{who} asked for /{} and got {other}",
                    file_name(file)
                ))
            }
        }
    }
    Ok(())
}

/// A reply older than the version released before the client asked, if any.
pub fn stale_content(who: &str, log: &[Event], floor: u8) -> Result<(), String> {
    for e in log {
        if let (Op::Get { file }, Outcome::Replied(Reply::File { version, .. })) = (e.op, e.outcome)
        {
            if file == DEPLOYED_FILE && version < floor {
                return Err(format!(
                    "{who} asked for /{} after v{floor} was deployed to every server, and got v{version}",
                    file_name(file)
                ));
            }
        }
    }
    Ok(())
}

fn check_all(sys: &StatelessSystem, s: &SysState<Node>, fresh: bool) -> Result<(), String> {
    for o in observers(sys, s) {
        wrong_content(o.name, o.log)?;
        if fresh {
            stale_content(o.name, o.log, o.floor)?;
        }
    }
    Ok(())
}

fn replies_text(sys: &StatelessSystem, s: &SysState<Node>) -> String {
    let seen: Vec<String> = observers(sys, s)
        .iter()
        .flat_map(|o| {
            o.log.iter().filter_map(move |e| match (e.op, e.outcome) {
                (Op::Get { file }, Outcome::Replied(r)) => Some(format!(
                    "{} asked for /{} and got {r}",
                    o.name,
                    file_name(file)
                )),
                (Op::Get { file }, Outcome::TimedOut) => Some(format!(
                    "{} gave up waiting for /{}",
                    o.name,
                    file_name(file)
                )),
                _ => None,
            })
        })
        .collect();
    if seen.is_empty() {
        "no client has an answer yet".to_string()
    } else {
        seen.join("; ")
    }
}

fn pending_text(sys: &StatelessSystem, s: &SysState<Node>) -> String {
    let pending: Vec<String> = observers(sys, s)
        .iter()
        .flat_map(|o| {
            o.log
                .iter()
                .filter(|e| e.outcome == Outcome::Pending)
                .map(move |e| format!("{} still waits for {}", o.name, e.op))
        })
        .collect();
    if pending.is_empty() {
        "every request has its reply or timeout".to_string()
    } else {
        pending.join("; ")
    }
}

/// The properties of the stateless model, each declared once.
pub fn properties() -> Vec<Property<StatelessSystem>> {
    vec![
        Property {
            name: "correct_content",
            claim: "a reply carries the file asked for, no older than the version deployed to every server before the client asked",
            kind: Kind::Always,
            client_steps: ClientSteps::Stable,
            check: |sys, s| check_all(sys, s, true).is_ok(),
            values: |sys, s| match check_all(sys, s, true) {
                Err(e) => e,
                Ok(()) => replies_text(sys, s),
            },
        },
        Property {
            name: "every_request_answered",
            claim: "when nothing is left to deliver, every request has ended with a reply or a timeout",
            kind: Kind::Eventually,
            client_steps: ClientSteps::Visible,
            check: |sys, s| {
                observers(sys, s)
                    .iter()
                    .all(|o| o.log.iter().all(|e| e.outcome != Outcome::Pending))
            },
            values: pending_text,
        },
        Property {
            name: "no_wrong_reply_under_loss",
            claim: "whatever the network loses, a client gets the file it asked for or a timeout or error, never other content",
            kind: Kind::Always,
            client_steps: ClientSteps::Stable,
            check: |sys, s| check_all(sys, s, false).is_ok(),
            values: |sys, s| match check_all(sys, s, false) {
                Err(e) => e,
                Ok(()) => replies_text(sys, s),
            },
        },
    ]
}

const CLIENT_NAMES: [&str; 4] = ["jose", "maria", "ana", "luis"];

/// What each client browses: the home page, then the logo, alternately.
fn page(k: usize) -> (u8, &'static str) {
    if k % 2 == 0 {
        (0, "home page")
    } else {
        (1, "logo")
    }
}

/// Builds the model for a variant's mode at `bounds`: actors lb, server1.., operator,
/// then the clients.
pub fn build(mode: Mode, bounds: &Bounds) -> StatelessSystem {
    build_with(mode, None, bounds)
}

/// Builds the model for a mode, with a seeded bug or none.
pub fn build_with(mode: Mode, bug: Option<Bug>, bounds: &Bounds) -> StatelessSystem {
    let servers = bounds.servers as usize;
    let lb_id = Id::from(0);
    let server_ids: Vec<Id> = (1..=servers).map(Id::from).collect();
    let operator_id = servers + 1;
    let policy = RetryPolicy {
        timeout: true,
        retries: 0,
        session_token: false,
    };
    let mut names: Vec<String> = vec!["lb".to_string()];
    names.extend((1..=servers).map(|i| format!("server{i}")));
    names.push("operator".to_string());
    names.extend(
        CLIENT_NAMES
            .iter()
            .take(bounds.clients as usize)
            .map(|n| n.to_string()),
    );
    let mut clients: Vec<(Id, &'static str)> = vec![(Id::from(operator_id), "operator")];
    clients.extend(
        CLIENT_NAMES
            .iter()
            .take(bounds.clients as usize)
            .enumerate()
            .map(|(c, &n)| (Id::from(operator_id + 1 + c), n)),
    );

    let mut actors: Vec<Node> = vec![Node::Lb(Lb {
        mode,
        bug,
        servers: server_ids.clone(),
        clients,
    })];
    actors.extend((0..servers).map(|_| Node::Server(Server { bug })));
    let (file, label) = page(0);
    actors.push(Node::Operator(Operator {
        servers: server_ids,
        file: DEPLOYED_FILE,
        version: NEW_VERSION,
        purge: mode.purges().then_some(lb_id),
        client: Client {
            index: bounds.clients,
            workload: vec![Request {
                dst: lb_id,
                op: Op::Get { file },
                label,
            }],
            policy,
        },
    }));
    debug_assert_eq!(actors.len(), operator_id + 1);
    for c in 0..bounds.clients as usize {
        let workload = (0..bounds.ops as usize)
            .map(|k| {
                let (file, label) = page(c + k);
                Request {
                    dst: lb_id,
                    op: Op::Get { file },
                    label,
                }
            })
            .collect();
        actors.push(Node::Client(Client {
            index: c as u8,
            workload,
            policy,
        }));
    }
    // The servers are interchangeable: the lb may pick any of them, and the operator
    // deploys to all.
    let symmetric = if servers > crate::symmetry::MAX_GROUP {
        Vec::new()
    } else {
        (1..=servers).collect()
    };
    System::new(
        names.into_iter().zip(actors).collect(),
        bounds.faults(),
        properties(),
    )
    .with_symmetry(symmetric)
}

const VARIANTS: &[Variant] = &[
    Variant {
        name: "lb",
        about: "the lb forwards every GET to either server; the content always comes from a server",
        expect: &[
            ("correct_content", Verdict::Holds),
            ("every_request_answered", Verdict::Holds),
            ("no_wrong_reply_under_loss", Verdict::Holds),
        ],
    },
    Variant {
        name: "stale-cache",
        about: "the lb caches what it relays and nothing invalidates the cache: after a deploy it serves the old version",
        expect: &[
            ("correct_content", Verdict::Violated),
            ("every_request_answered", Verdict::Holds),
            ("no_wrong_reply_under_loss", Verdict::Holds),
        ],
    },
    Variant {
        name: "purge",
        about: "the first fix: after the release the operator purges index.html from the lb cache; a v1 answer still in flight from before the deploy fills it again",
        expect: &[
            ("correct_content", Verdict::Violated),
            ("every_request_answered", Verdict::Holds),
            ("no_wrong_reply_under_loss", Verdict::Holds),
        ],
    },
    Variant {
        name: "versioned-purge",
        about: "the fix: the purge says v2 is live and the lb never caches an older index.html again (it keeps that on disk)",
        expect: ALL_HOLD,
    },
];

/// Every property holds: what the fix, and so each of its mutants, is expected to get.
const ALL_HOLD: &[(&str, Verdict)] = &[
    ("correct_content", Verdict::Holds),
    ("every_request_answered", Verdict::Holds),
    ("no_wrong_reply_under_loss", Verdict::Holds),
];

/// Seeded bugs in the `versioned-purge` fix; each must be caught by some property.
const MUTANTS: &[Variant] = &[
    Variant {
        name: "mutant-floor-not-checked",
        about: "seeded bug: the lb caches whatever it relays, ignoring the purge's floor",
        expect: ALL_HOLD,
    },
    Variant {
        name: "mutant-purge-keeps-cache",
        about: "seeded bug: the lb acknowledges a purge but keeps the cached copy",
        expect: ALL_HOLD,
    },
    Variant {
        name: "mutant-floor-off-by-one",
        about: "seeded bug: the lb sets the floor one version too low",
        expect: ALL_HOLD,
    },
    Variant {
        name: "mutant-wrong-file",
        about: "seeded bug: a server answers with the other file's content",
        expect: ALL_HOLD,
    },
    Variant {
        name: "mutant-deploy-ack-before-write",
        about: "seeded bug: a server acknowledges a deploy without writing the file",
        expect: ALL_HOLD,
    },
];

fn mode_of(variant: &Variant) -> (Mode, Option<Bug>) {
    let bug = match variant.name {
        "stale-cache" => return (Mode::StaleCache, None),
        "purge" => return (Mode::Purge, None),
        "versioned-purge" => return (Mode::VersionedPurge, None),
        "mutant-floor-not-checked" => Bug::FloorNotChecked,
        "mutant-purge-keeps-cache" => Bug::PurgeKeepsCache,
        "mutant-floor-off-by-one" => Bug::FloorOffByOne,
        "mutant-wrong-file" => Bug::WrongFile,
        "mutant-deploy-ack-before-write" => Bug::DeployAckBeforeWrite,
        _ => return (Mode::Forward, None),
    };
    (Mode::VersionedPurge, Some(bug))
}

fn build_variant(variant: &Variant, bounds: &Bounds) -> StatelessSystem {
    let (mode, bug) = mode_of(variant);
    build_with(mode, bug, bounds)
}

/// The stateless architecture of the catalog.
pub struct Stateless;

impl Stateless {
    fn validate(bounds: &Bounds) -> Result<(), Error> {
        Bounds::require(
            "servers",
            bounds.servers.into(),
            1,
            4,
            "static file servers behind the lb",
        )?;
        Bounds::require(
            "clients",
            bounds.clients.into(),
            1,
            CLIENT_NAMES.len() as i64,
            "one name per client",
        )?;
        Bounds::require("ops", bounds.ops.into(), 1, 4, "GETs per client")?;
        if bounds.balance != 0 {
            return Err(Error::BadInput(format!(
                "--balance {} does not apply to model 'stateless': static files hold no money (leave --balance out)",
                bounds.balance
            )));
        }
        Bounds::require(
            "loss",
            bounds.loss.into(),
            0,
            4,
            "lost requests, replies and lb <-> server messages per run",
        )?;
        Bounds::require(
            "crashes",
            bounds.crashes.into(),
            0,
            i64::from(bounds.servers),
            "servers and lb down at once; one of them must stay up",
        )?;
        let gets = i64::from(bounds.clients) * i64::from(bounds.ops);
        if gets > 8 {
            return Err(Error::BadInput(format!(
                "--clients {} x --ops {} = {gets} GETs is too large: at most 8 in one run",
                bounds.clients, bounds.ops
            )));
        }
        Ok(())
    }
}

impl Architecture for Stateless {
    fn name(&self) -> &'static str {
        "stateless"
    }

    fn about(&self) -> &'static str {
        "a load balancer in front of two static file servers, while an operator deploys a new index.html"
    }

    fn variants(&self) -> &'static [Variant] {
        VARIANTS
    }

    fn mutants(&self) -> &'static [Variant] {
        MUTANTS
    }

    fn default_bounds(&self) -> Bounds {
        Bounds {
            clients: 1,
            ops: 1,
            servers: 2,
            balance: 0,
            network: NetworkKind::Unordered,
            loss: 0,
            crashes: 0,
        }
    }

    fn proof_bounds(&self) -> Vec<Bounds> {
        let d = self.default_bounds();
        vec![
            d,
            Bounds {
                ops: 2,
                loss: 1,
                ..d
            },
            Bounds {
                loss: 1,
                crashes: 1,
                ..d
            },
            Bounds {
                clients: 2,
                loss: 1,
                ..d
            },
        ]
    }

    fn bench_bounds(&self) -> Vec<Bounds> {
        let d = self.default_bounds();
        vec![
            d,
            Bounds {
                clients: 2,
                loss: 1,
                crashes: 1,
                ..d
            },
        ]
    }

    fn build(&self, variant: &Variant, bounds: &Bounds) -> Result<Box<dyn Buildable>, Error> {
        Self::validate(bounds)?;
        Ok(Box::new(build_variant(variant, bounds)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::CheckOptions;
    use crate::exhaustive::{self, Limits};
    use crate::report::CheckReport;

    fn check(variant: &str, bounds: Bounds, properties: &[&str]) -> CheckReport {
        let arch = Stateless;
        let opts = CheckOptions {
            properties: properties.iter().map(|p| p.to_string()).collect(),
            ..CheckOptions::default()
        };
        arch.check(arch.variant(variant).unwrap(), &bounds, &opts)
            .unwrap()
    }

    #[test]
    fn the_stale_cache_serves_the_operator_the_old_page_in_ten_steps() {
        let r = check(
            "stale-cache",
            Stateless.default_bounds(),
            &["correct_content"],
        );
        let res = &r.results[0];
        assert_eq!(res.verdict, Verdict::Violated);
        let t = res.trace.as_ref().expect("a counterexample");
        assert_eq!(t.len(), 10, "{}", r.to_text());
        let text = t.to_text();
        for needle in [
            "operator -> server1",
            "deploy index.html v2",
            "lb cache: empty -> index.html v1",
            "lb cache hits: none -> index.html v1",
            "reply: home page content of /index.html v1",
        ] {
            assert!(text.contains(needle), "no {needle:?} in\n{text}");
        }
        assert!(
            t.values.contains("after v2 was deployed") && t.values.contains("got v1"),
            "{}",
            t.values
        );
    }

    #[test]
    fn a_purge_loses_the_race_with_an_answer_sent_before_the_deploy() {
        let r = check("purge", Stateless.default_bounds(), &["correct_content"]);
        let t = r.results[0].trace.as_ref().expect("a counterexample");
        assert_eq!(t.len(), 12, "{}", r.to_text());
        let step = |needle: &str| {
            t.steps
                .iter()
                .position(|s| s.text.contains(needle) || s.changes.join("; ").contains(needle))
                .unwrap_or_else(|| panic!("no {needle:?} in\n{}", t.to_text()))
        };
        // The server answers jose with v1 before its deploy, the lb purges, and only then
        // does the v1 answer reach the lb and fill the cache the operator reads.
        assert!(step("forward GET /index.html") < step("server2 index.html: v1 -> v2"));
        assert!(step("purged index.html") < step("lb cache: empty -> index.html v1"));
        assert!(step("lb cache: empty -> index.html v1") < step("lb cache hits: none"));
    }

    #[test]
    fn without_a_cache_every_property_holds_even_when_the_network_loses_a_message() {
        for loss in [0, 1] {
            let b = Bounds {
                loss,
                ..Stateless.default_bounds()
            };
            let r = check("lb", b, &[]);
            assert!(r.complete, "{}", r.to_text());
            for res in &r.results {
                assert_eq!(res.verdict, Verdict::Holds, "{}", r.to_text());
            }
        }
    }

    #[test]
    fn a_lost_message_leaves_a_client_without_timeouts_waiting_forever() {
        let b = Bounds {
            loss: 1,
            ..Stateless.default_bounds()
        };
        let mut sys = build(Mode::Forward, &b);
        for a in sys.actors.actors.iter_mut() {
            match a {
                Node::Client(c) => c.policy.timeout = false,
                Node::Operator(op) => op.client.policy.timeout = false,
                _ => {}
            }
        }
        let p: Vec<_> = sys
            .properties
            .iter()
            .filter(|p| p.name == "every_request_answered")
            .copied()
            .collect();
        let s = exhaustive::search(&sys, &p, &Limits::default());
        let path = s.findings[0].path.as_ref().expect("a run that never ends");
        assert!(
            (p[0].values)(&sys, path.last()).contains("still waits"),
            "{}",
            (p[0].values)(&sys, path.last())
        );
    }

    #[test]
    fn content_checks_on_hand_written_histories() {
        let get = |file, outcome| Event {
            id: ReqId {
                client: 0,
                seq: 0,
                attempt: 0,
            },
            op: Op::Get { file },
            outcome,
        };
        let file = |file, version| Outcome::Replied(Reply::File { file, version });
        assert!(wrong_content("jose", &[get(0, file(0, 1)), get(1, file(1, 1))]).is_ok());
        assert!(wrong_content("jose", &[get(0, Outcome::TimedOut)]).is_ok());
        assert!(wrong_content("jose", &[get(0, Outcome::Replied(Reply::Error))]).is_ok());
        // The logo in answer to the home page, a version nobody deployed, a bank answer.
        let e = wrong_content("jose", &[get(0, file(1, 1))]).unwrap_err();
        assert!(e.contains("jose asked for /index.html"), "{e}");
        assert!(wrong_content("jose", &[get(0, file(0, 3))]).is_err());
        assert!(wrong_content(
            "jose",
            &[get(0, Outcome::Replied(Reply::Written { version: 1 }))]
        )
        .is_err());
        // Freshness: v1 is fine for someone who asked before the release, not after it.
        assert!(stale_content("jose", &[get(0, file(0, 1))], 1).is_ok());
        assert!(stale_content("operator", &[get(0, file(0, 2))], 2).is_ok());
        assert!(stale_content("operator", &[get(0, file(0, 1))], 2).is_err());
    }

    #[test]
    fn bounds_the_model_cannot_take_are_refused_with_a_reason() {
        let d = Stateless.default_bounds();
        let bad = |b: Bounds| {
            let arch = Stateless;
            match arch.check(&VARIANTS[0], &b, &CheckOptions::default()) {
                Err(Error::BadInput(m)) => m,
                Ok(_) => panic!("{b:?} was accepted"),
            }
        };
        assert!(bad(Bounds { balance: 10, ..d }).contains("--balance"));
        assert!(bad(Bounds { clients: 9, ..d }).contains("too large"));
        assert!(bad(Bounds { servers: 0, ..d }).contains("too small"));
        assert!(bad(Bounds {
            clients: 4,
            ops: 4,
            ..d
        })
        .contains("at most 8"));
    }
}
