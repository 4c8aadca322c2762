//! Traces: a run of a model told as the story of the failure, one step per line, and
//! its renderings (text, JSON through serde, Mermaid sequence diagram).

use serde::Serialize;
use stateright::Model;

/// What a search takes out of the states it stores (see [`crate::forgetting`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Forgetting {
    /// What nobody will read ([`Narrate::forget`]).
    pub unread: bool,
    /// The order of client steps, where no property searched reads it
    /// ([`Narrate::forget_order`]).
    pub order: bool,
    /// The operations clients have finished, once every property still undecided reads
    /// only the servers ([`Narrate::forget_settled`]).
    pub settled: bool,
}

/// A state, its actions and whether each leads somewhere, as
/// [`Narrate::successors_enabled`] told it (for [`Narrate::successors_enabled_since`]).
pub struct Told<'a, M: Model> {
    /// The state.
    pub state: &'a M::State,
    /// Its actions, in the model's order.
    pub actions: &'a [M::Action],
    /// One answer per action.
    pub enabled: &'a [Option<bool>],
}

impl<M: Model> Clone for Told<'_, M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M: Model> Copy for Told<'_, M> {}

/// A model that can tell its own runs in its own words.
pub trait Narrate: Model {
    /// A compact form of a state, for the exhaustive engine's frontier.
    type Packed: Send + Sync;
    /// Packs a state (exactly: [`Narrate::unpack`] gives it back).
    fn pack(&self, state: Self::State) -> Self::Packed;
    /// Unpacks a state packed by [`Narrate::pack`].
    fn unpack(&self, packed: &Self::Packed) -> Self::State;

    /// The starting situation, one line per actor ("master1 balance 10").
    fn start(&self, state: &Self::State) -> Vec<String>;
    /// One step: who acted, what, and what it changed.
    fn step(&self, before: &Self::State, action: &Self::Action, after: &Self::State) -> Step;

    /// True when `action` delivers a message that is in flight in `state`. The story
    /// marks a delivery that waited in the network ("sent at step 2"). False by default
    /// (no mark).
    fn in_flight(&self, state: &Self::State, action: &Self::Action) -> bool {
        let _ = (state, action);
        false
    }

    /// True for a step of `state` that is not work left to do (a server crash, which can
    /// always happen; losing a message nobody will read). A state whose only steps are
    /// spontaneous has *come to rest*: that is where `eventually` properties are judged.
    fn spontaneous(&self, state: &Self::State, action: &Self::Action) -> bool {
        let _ = (state, action);
        false
    }

    /// Where each of `actions` leads from `state`, told without building the states it
    /// leads to: the [`crate::exhaustive::fingerprint`] of the next state, `Some(None)` for
    /// an action that leads nowhere (`next_state` is `None`), `None` where the model cannot
    /// tell. Fills `out` with one entry per action, or leaves it empty (the default). The
    /// exhaustive engine builds only the states it has not seen. A model that answers
    /// must keep its `within_boundary` always true. `state` is one `forget` left nothing to
    /// take out of, and the fingerprints told are those of the next states with what
    /// `forget` names taken out ([`Narrate::forget`], [`Narrate::forget_order`],
    /// [`Narrate::forget_settled`]).
    fn successor_fingerprints(
        &self,
        state: &Self::State,
        actions: &[Self::Action],
        forget: Forgetting,
        out: &mut Vec<Option<Option<u64>>>,
    ) {
        let _ = (state, actions, forget, out);
    }

    /// [`Narrate::successor_fingerprints`] for the steps `which` of `actions` only, so that
    /// a search that takes a few of a state's steps tells only those: `out` is made one
    /// entry per action (`None` for the steps not told yet) and the entries of `which` are
    /// filled; the others are left as they are. The default tells every step, once (it
    /// does nothing where `out` holds entries already).
    fn successor_fingerprints_of(
        &self,
        state: &Self::State,
        actions: &[Self::Action],
        which: &[usize],
        forget: Forgetting,
        out: &mut Vec<Option<Option<u64>>>,
    ) {
        let _ = which;
        if out.is_empty() {
            self.successor_fingerprints(state, actions, forget, out);
        }
    }

    /// For partial-order reduction: takes out of `state` what no step will ever read (see
    /// [`crate::forgetting`]), so that states differing only by it are searched once; true
    /// if it took something. Every step of the state taken out is a step of the state
    /// before, to a state that gives the same when taken out, and so is every step of the
    /// state before but [`Narrate::spontaneous`] losses of what was taken out; every
    /// property's check is the same on both. The default: nothing.
    fn forget(&self, state: &mut Self::State) -> bool {
        let _ = state;
        false
    }

    /// Whether each of `actions` leads somewhere from `state` (`next_state` is `Some`),
    /// told without building the states: `None` where the model cannot tell. One entry per
    /// action, or none. The random engine, which only needs to know which steps are
    /// enabled, asks this; by default it is what [`Narrate::successor_fingerprints`] tells.
    fn successors_enabled(
        &self,
        state: &Self::State,
        actions: &[Self::Action],
        out: &mut Vec<Option<bool>>,
    ) {
        let mut told = Vec::new();
        self.successor_fingerprints(state, actions, Forgetting::default(), &mut told);
        out.extend(told.into_iter().map(|t| t.map(|fp| fp.is_some())));
    }

    /// [`Narrate::successors_enabled`] for `state`, given `before`: another state (the
    /// random engine gives the one its walk just left), its actions and what was told of
    /// them. A model may give an answer of `before` again for a step whose outcome cannot
    /// differ between the two states. The same answers as [`Narrate::successors_enabled`]
    /// gives, always, whatever `before` is; by default, it asks that.
    fn successors_enabled_since(
        &self,
        before: Told<'_, Self>,
        state: &Self::State,
        actions: &[Self::Action],
        out: &mut Vec<Option<bool>>,
    ) {
        let _ = before;
        self.successors_enabled(state, actions, out);
    }

    /// For partial-order reduction: the indices of a *stubborn* subset of `actions` (each
    /// of its steps commutes ahead of any sequence of the other steps, and one of them
    /// stays enabled whatever those do; persistent sets are the special case), each of
    /// whose steps leaves every property that may be checked either unchanged or stable
    /// (see [`crate::reduction`]). `client_steps` says whether a set of client steps may
    /// be named: false while a property that client steps can change is undecided.
    /// Leaves `out` empty (the default) when it knows none.
    fn persistent_set(
        &self,
        state: &Self::State,
        actions: &[Self::Action],
        client_steps: bool,
        out: &mut Vec<usize>,
    ) {
        let _ = (state, actions, client_steps, out);
    }

    /// The same model with nothing shared with this one that a search writes to, for a
    /// search that runs beside another on this one; `None` (the default) where there is no
    /// such thing, and the searches share the model.
    fn twin(&self) -> Option<Self>
    where
        Self: Sized,
    {
        None
    }

    /// Takes the order of client steps (a real-time history) out of `state`, for a search
    /// in which no property reads it (only [`crate::property::ClientSteps::Order`]
    /// properties may). Returns whether there was one. The default: nothing to take out.
    fn forget_order(&self, state: &mut Self::State) -> bool {
        let _ = state;
        false
    }

    /// Takes out of `state` what clients keep of the operations they have finished (the
    /// answered attempts in their logs, and the real-time history): for a search
    /// in which every property still undecided reads only the servers and the messages
    /// between them ([`crate::property::ClientSteps::Invisible`]). Every step of the state
    /// taken out is a step of the state before, to a state that gives the same when taken
    /// out, and the other way round; those properties' checks are the same on both (see
    /// [`crate::forgetting`]). Returns whether it took something. The default: nothing.
    fn forget_settled(&self, state: &mut Self::State) -> bool {
        let _ = state;
        false
    }

    /// Whether [`Narrate::forget_settled`] takes anything out (the model declares that no
    /// step reads the operations clients have finished). The default: no.
    fn forgets_settled(&self) -> bool {
        false
    }

    /// Whether `action` matters only to `eventually` properties: it changes nothing that
    /// an `always` or `sometimes` check reads or that any other step depends on (a delivery
    /// to a sink, see [`crate::reduction`]), so a search without `eventually` properties may
    /// leave it out: every run taking it has a twin without it, no longer, through states
    /// with the same checks. Searches that forget ([`Narrate::forget`]) do. The default: no
    /// step is.
    fn only_for_eventually(&self, state: &Self::State, action: &Self::Action) -> bool {
        let _ = (state, action);
        false
    }

    /// For partial-order reduction: whether `action` only holds back what other steps do
    /// (the crash of an actor that a restart gives back unchanged; see
    /// [`crate::reduction`]), so that every run taking it has a twin without it through
    /// states with the same checks. `--reduce por` leaves such steps out. The default:
    /// no step is.
    fn only_delays(&self, state: &Self::State, action: &Self::Action) -> bool {
        let _ = (state, action);
        false
    }

    /// Whether `action` is one of `state`'s steps (a step of the state with what a search
    /// forgets taken out need not be one of the full state's): lets a path be replayed on
    /// full states from steps found on stored ones. The default: none is known to be.
    fn has_step(&self, state: &Self::State, action: &Self::Action) -> bool {
        let _ = (state, action);
        false
    }

    /// For partial-order reduction: whether `action` is the loss of a message. The
    /// default: no step is.
    fn is_loss(&self, action: &Self::Action) -> bool {
        let _ = action;
        false
    }

    /// For partial-order reduction, losses last (see [`crate::reduction`]): whether the
    /// losses enabled in `state` may wait, left out of its expansion where no step set is
    /// named. They may not where `state` is at rest but for messages it may still lose:
    /// every step that leads somewhere, but for losses and crashes, is the delivery of a
    /// message that may be lost, and the loss budget covers every copy of them (losing
    /// them all then brings the run to rest). `told` is what
    /// [`Narrate::successor_fingerprints`] told of `actions` (possibly nothing). The
    /// default: losses never wait.
    fn losses_wait(
        &self,
        state: &Self::State,
        actions: &[Self::Action],
        told: &[Option<Option<u64>>],
    ) -> bool {
        let _ = (state, actions, told);
        false
    }

    /// Whether every persistent set this model names keeps each state at rest at its
    /// distance from the start: the set holds a step that is neither a loss nor a crash
    /// and that still leads somewhere after any steps outside the set (no later step
    /// absorbs it). A run to a state at rest then takes a step of the set, which commutes
    /// to the front, so the reduced search reaches every state at rest by a path as short
    /// as the shortest one, and the violation of an `eventually` property it finds needs
    /// no shortening (see [`crate::reduction`]). The default: not known.
    fn keeps_rest_paths(&self) -> bool {
        false
    }

    /// Whether every persistent set this model names is one that the rest of the system
    /// waits on: until one of its steps is taken, no step outside it changes an
    /// `always`/`sometimes` check, and [`Narrate::keeps_rest_paths`] holds. A run to a
    /// violation then takes a step of the set before the violation, and that step
    /// commutes to the front, so the reduced search finds every violation on a path as
    /// short as the shortest one, and none is shortened (see [`crate::reduction`]). The
    /// default: not known.
    fn keeps_violation_paths(&self) -> bool {
        false
    }

    /// Why [`Narrate::persistent_set`] never names a set for this model, in words, if it
    /// knows (the default: it never does).
    fn reduction_blocker(&self) -> Option<String> {
        Some("the model names no persistent sets".to_string())
    }

    /// For symmetry reduction: the fingerprint of `state`'s orbit under the model's
    /// interchangeable actors, the same for every state of the orbit (see
    /// [`crate::symmetry`]); `None` (the default) when the model declares none. `own` is
    /// `state`'s own fingerprint ([`crate::exhaustive::fingerprint`]), which the engine has
    /// worked out already.
    fn symmetric_fingerprint(&self, state: &Self::State, own: u64) -> Option<u64> {
        let _ = (state, own);
        None
    }

    /// The names of the actors [`Narrate::symmetric_fingerprint`] treats as
    /// interchangeable (empty, the default, when the model declares none).
    fn interchangeable(&self) -> Vec<String> {
        Vec::new()
    }
}

/// True when `state` has come to rest: no step but spontaneous ones (crashes, losses of
/// messages nobody will read) changes it.
pub fn at_rest<M: Narrate>(model: &M, state: &M::State) -> bool {
    let mut actions = Vec::new();
    model.actions(state, &mut actions);
    actions
        .into_iter()
        .all(|a| model.spontaneous(state, &a) || model.next_state(state, a).is_none())
}

/// A run of a model: a start state and the actions taken from it.
pub struct Path<M: Model> {
    /// The states visited; `states.len() == actions.len() + 1`.
    pub states: Vec<M::State>,
    /// The actions taken, `actions[i]` leading from `states[i]` to `states[i + 1]`.
    pub actions: Vec<M::Action>,
}

impl<M: Model> Path<M> {
    /// Number of steps.
    pub fn len(&self) -> usize {
        self.actions.len()
    }
    /// True when the path is only a start state.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }
    /// The last state.
    pub fn last(&self) -> &M::State {
        self.states
            .last()
            .expect("a path has at least its start state")
    }
}

/// One step of a trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    /// 1-based step number.
    pub step: usize,
    /// The actor that acted (the sender, for a delivered or lost message).
    pub actor: String,
    /// The receiver of a delivered or lost message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// deliver, lose, timeout, crash, restart.
    pub action: String,
    /// The step in the model's words.
    pub text: String,
    /// State changes the step caused ("master1 balance: 10 -> 0").
    pub changes: Vec<String>,
}

/// A counterexample (or, for a `sometimes` property, an example) told as a story.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Trace {
    /// The starting situation.
    pub start: Vec<String>,
    /// The steps, numbered from 1.
    pub steps: Vec<Step>,
    /// The values the property looks at in the last state ("master2 holds -5").
    pub values: String,
    /// For a run that never comes to rest (a lasso): the number of the first step of the
    /// cycle; the steps from it to the last repeat forever.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeats_from: Option<usize>,
}

/// " (sent at step k)" when step `i` of `path` delivers a message that waited in the
/// network since an earlier step than the one before.
fn sent_before<M: Narrate>(model: &M, path: &Path<M>, i: usize) -> Option<String> {
    let a = &path.actions[i];
    let mut first = i; // the first state (index) of the run of states it is in flight in
    while model.in_flight(&path.states[first], a) {
        if first == 0 {
            return (i > 0).then(|| " (sent at the start)".to_string());
        }
        first -= 1;
    }
    // States first+1..=i hold it: it was sent by step first+1 (1-based).
    (first + 1 < i).then(|| format!(" (sent at step {})", first + 1))
}

impl Trace {
    /// Tells a path of a model.
    pub fn from_path<M>(model: &M, path: &Path<M>, values: String) -> Trace
    where
        M: Narrate,
    {
        let steps = path
            .actions
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let mut s = model.step(&path.states[i], a, &path.states[i + 1]);
                s.step = i + 1;
                if let Some(sent) = sent_before(model, path, i) {
                    s.text.push_str(&sent);
                }
                s
            })
            .collect();
        Trace {
            start: model.start(&path.states[0]),
            steps,
            values,
            repeats_from: None,
        }
    }

    /// Number of steps.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// True when the trace has no step (the start state itself is the example).
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The trace as indented text lines (no header), ending with what the property looks
    /// at in the last state.
    pub fn to_text(&self) -> String {
        let mut out = self.steps_text();
        if !self.values.is_empty() {
            out.push_str(&format!("  at the end: {}\n", self.values));
        }
        out
    }

    /// The start and the steps as indented text lines.
    pub(crate) fn steps_text(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!("  start  {}\n", self.start.join("; ")));
        let width = self
            .steps
            .iter()
            .map(|s| who(s).chars().count())
            .max()
            .unwrap_or(0);
        let text_width = self
            .steps
            .iter()
            .map(|s| s.text.chars().count())
            .max()
            .unwrap_or(0);
        for s in &self.steps {
            let num = format!("{}.", s.step);
            let line = format!(
                "  {num:<4}{:<width$}  {:<text_width$}  {}",
                who(s),
                s.text,
                s.changes.join("; "),
            );
            out.push_str(line.trim_end());
            out.push('\n');
        }
        if let Some(from) = self.repeats_from {
            out.push_str(&format!(
                "  from step {from}, steps {from}-{} repeat forever: the run never comes to rest\n",
                self.steps.len()
            ));
        }
        out
    }

    /// The trace as a Mermaid sequence diagram.
    pub fn to_mermaid(&self, title: &str, broken: &str) -> String {
        let mut actors: Vec<&str> = Vec::new();
        for s in &self.steps {
            for a in std::iter::once(s.actor.as_str()).chain(s.to.as_deref()) {
                if !actors.contains(&a) {
                    actors.push(a);
                }
            }
        }
        let mut out = String::from("sequenceDiagram\n");
        out.push_str(&format!("    title {}\n", mermaid_text(title)));
        for a in &actors {
            out.push_str(&format!("    participant {a}\n"));
        }
        for s in &self.steps {
            let text = mermaid_text(&format!("{}. {}", s.step, s.text));
            match (&s.to, s.action.as_str()) {
                (Some(to), "lose") => out.push_str(&format!("    {}-x{}: {}\n", s.actor, to, text)),
                (Some(to), _) => out.push_str(&format!("    {}->>{}: {}\n", s.actor, to, text)),
                (None, _) => out.push_str(&format!("    Note over {}: {}\n", s.actor, text)),
            }
            if !s.changes.is_empty() {
                let over = s.to.as_deref().unwrap_or(&s.actor);
                out.push_str(&format!(
                    "    Note over {over}: {}\n",
                    mermaid_text(&s.changes.join("; "))
                ));
            }
        }
        if let Some(first) = actors.first() {
            let last = actors.last().unwrap_or(first);
            let span = if first == last {
                first.to_string()
            } else {
                format!("{first},{last}")
            };
            out.push_str(&format!(
                "    Note over {span}: {}\n",
                mermaid_text(&format!("{broken}: {}", self.values))
            ));
        }
        out
    }
}

fn who(s: &Step) -> String {
    match &s.to {
        Some(to) => format!("{} -> {}", s.actor, to),
        None => s.actor.clone(),
    }
}

/// Mermaid treats `;` and `#` specially in message text.
fn mermaid_text(s: &str) -> String {
    s.replace(';', ",").replace('#', "no.")
}
