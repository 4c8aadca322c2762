//! Runs that never come to rest: the cycles an `eventually` claim must also be judged on.
//!
//! The breadth-first search judges an `eventually` property where a run comes to rest.
//! A run that never rests (a message delivered again and again on a duplicating network,
//! a timer that keeps firing) would go unjudged, and an unjudged claim must never come
//! out as *holds*. This pass builds the whole reachable graph without reductions, splits
//! it into strongly connected components over the steps that are not faults (a crash or a
//! loss is never owed to a run: faults are finite), and keeps the components a **weakly
//! fair** run can stay in forever: every delivery or timer enabled in all of the
//! component's states is also taken inside it (TLC's `WF`). A state of such a component
//! where the claim is false is a violation, told as a *lasso*: the shortest path to that
//! state, then the shortest cycle back to it, repeated forever.
//!
//! A graph larger than the search's state limit is not judged: the caller reports the
//! claim as incomplete, never as holding.

use crate::property::Property;
use crate::trace::{Narrate, Path};
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// A violation on a run that never rests: `path` reaches a state, then goes round a
/// cycle back to it; the steps from `loop_from` (0-based) repeat forever.
pub struct Lasso<M: Narrate> {
    /// The prefix and one turn of the cycle.
    pub path: Path<M>,
    /// Index of the first step of the cycle.
    pub loop_from: usize,
}

/// What the pass found for one property.
pub enum Judged<M: Narrate> {
    /// No fair cycle holds a state where the claim is false.
    NoCycleBreaks,
    /// A fair cycle on which the claim is false somewhere.
    Lasso(Lasso<M>),
}

/// The pass could not finish: the graph has more states than `max_states`.
pub struct TooLarge {
    /// States built before stopping.
    pub states: usize,
}

/// The reachable graph: states in breadth-first order, with their non-fault steps.
struct Graph<M: Narrate> {
    states: Vec<M::State>,
    parent: Vec<Option<(usize, M::Action)>>,
    /// Per state, the steps that are not faults: action and target.
    edges: Vec<Vec<(M::Action, usize)>>,
}

/// Judges each of `properties` (all `eventually`) on the cycles of `model`'s graph.
pub fn judge<M>(
    model: &M,
    properties: &[&Property<M>],
    max_states: usize,
) -> Result<Vec<Judged<M>>, TooLarge>
where
    M: Narrate,
    M::State: Hash + Clone,
    M::Action: Clone + PartialEq,
{
    let graph = build(model, max_states)?;
    let components = components(&graph);
    let fair = fair_components(&graph, &components);
    Ok(properties
        .iter()
        .map(|p| {
            // States are in breadth-first order: the first failing one is the shallowest.
            let found = (0..graph.states.len())
                .find(|&i| fair[components.of[i]] && !(p.check)(model, &graph.states[i]));
            match found {
                None => Judged::NoCycleBreaks,
                Some(i) => Judged::Lasso(lasso(&graph, &components, i)),
            }
        })
        .collect())
}

fn build<M>(model: &M, max_states: usize) -> Result<Graph<M>, TooLarge>
where
    M: Narrate,
    M::State: Hash + Clone,
    M::Action: Clone,
{
    // States are told apart by fingerprint, as in the breadth-first search.
    let mut index: HashMap<u64, usize> = HashMap::new();
    let key = |s: &M::State| crate::exhaustive::fingerprint(s);
    let mut g = Graph {
        states: Vec::new(),
        parent: Vec::new(),
        edges: Vec::new(),
    };
    for s in model.init_states() {
        if model.within_boundary(&s) && !index.contains_key(&key(&s)) {
            index.insert(key(&s), g.states.len());
            g.states.push(s);
            g.parent.push(None);
        }
    }
    let mut next = 0;
    let mut actions = Vec::new();
    while next < g.states.len() {
        let mut out = Vec::new();
        actions.clear();
        model.actions(&g.states[next], &mut actions);
        for a in actions.drain(..) {
            if model.spontaneous(&g.states[next], &a) || model.is_loss(&a) {
                continue;
            }
            let Some(succ) = model.next_state(&g.states[next], a.clone()) else {
                continue;
            };
            if !model.within_boundary(&succ) {
                continue;
            }
            let target = match index.get(&key(&succ)) {
                Some(&t) => t,
                None => {
                    if g.states.len() >= max_states || crate::exhaustive::interrupted() {
                        return Err(TooLarge {
                            states: g.states.len(),
                        });
                    }
                    let t = g.states.len();
                    index.insert(key(&succ), t);
                    g.states.push(succ);
                    g.parent.push(Some((next, a.clone())));
                    t
                }
            };
            out.push((a, target));
        }
        g.edges.push(out);
        next += 1;
    }
    Ok(g)
}

/// Strongly connected components (Tarjan's algorithm, without recursion).
struct Components {
    /// Component of each state.
    of: Vec<usize>,
    /// Whether each component holds a cycle (more than one state, or a step to itself).
    cyclic: Vec<bool>,
}

fn components<M: Narrate>(g: &Graph<M>) -> Components {
    const NONE: usize = usize::MAX;
    let n = g.states.len();
    let (mut index, mut low, mut on_stack) = (vec![NONE; n], vec![0; n], vec![false; n]);
    let mut of = vec![NONE; n];
    let mut cyclic = Vec::new();
    let (mut stack, mut counter) = (Vec::new(), 0);
    for root in 0..n {
        if index[root] != NONE {
            continue;
        }
        let mut calls = vec![(root, 0usize)];
        index[root] = counter;
        low[root] = counter;
        counter += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut k)) = calls.last_mut() {
            if let Some(&(_, w)) = g.edges[v].get(*k) {
                *k += 1;
                if index[w] == NONE {
                    index[w] = counter;
                    low[w] = counter;
                    counter += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    calls.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            calls.pop();
            if let Some(&(u, _)) = calls.last() {
                low[u] = low[u].min(low[v]);
            }
            if low[v] == index[v] {
                let c = cyclic.len();
                let mut size = 0;
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    of[w] = c;
                    size += 1;
                    if w == v {
                        break;
                    }
                }
                cyclic.push(size > 1 || g.edges[v].iter().any(|&(_, t)| t == v));
            }
        }
    }
    Components { of, cyclic }
}

/// Per component: whether a weakly fair run can stay in it forever.
fn fair_components<M>(g: &Graph<M>, c: &Components) -> Vec<bool>
where
    M: Narrate,
    M::Action: PartialEq,
{
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); c.cyclic.len()];
    for (s, &comp) in c.of.iter().enumerate() {
        if c.cyclic[comp] {
            members[comp].push(s);
        }
    }
    members
        .iter()
        .enumerate()
        .map(|(comp, states)| {
            let Some(&first) = states.first() else {
                return false;
            };
            // A step enabled in every state of the component must be taken inside it
            // somewhere, or the run that stays starves it.
            g.edges[first].iter().all(|(a, _)| {
                let everywhere = states
                    .iter()
                    .all(|&s| g.edges[s].iter().any(|(b, _)| b == a));
                !everywhere
                    || states
                        .iter()
                        .any(|&s| g.edges[s].iter().any(|(b, t)| b == a && c.of[*t] == comp))
            })
        })
        .collect()
}

/// The shortest path to `at`, then the shortest cycle from `at` back to it inside its
/// component.
fn lasso<M>(g: &Graph<M>, c: &Components, at: usize) -> Lasso<M>
where
    M: Narrate,
    M::State: Clone,
    M::Action: Clone,
{
    let mut prefix = Vec::new();
    let mut s = at;
    while let Some((p, a)) = &g.parent[s] {
        prefix.push((a.clone(), s));
        s = *p;
    }
    prefix.reverse();
    let start = s;
    // Breadth-first inside the component, from `at` until a step leads back to it.
    let comp = c.of[at];
    let mut came: HashMap<usize, (usize, M::Action)> = HashMap::new();
    let mut queue = VecDeque::from([at]);
    let mut closing = None;
    'search: while let Some(v) = queue.pop_front() {
        for (a, t) in &g.edges[v] {
            if c.of[*t] != comp {
                continue;
            }
            if *t == at {
                closing = Some((v, a.clone()));
                break 'search;
            }
            if !came.contains_key(t) {
                came.insert(*t, (v, a.clone()));
                queue.push_back(*t);
            }
        }
    }
    let (last, closing_action) =
        closing.expect("a cyclic component has a cycle through each state");
    let mut cycle = vec![(closing_action, at)];
    let mut v = last;
    while v != at {
        let (p, a) = came[&v].clone();
        cycle.push((a, v));
        v = p;
    }
    cycle.reverse();
    let loop_from = prefix.len();
    let mut path = Path {
        states: vec![g.states[start].clone()],
        actions: Vec::new(),
    };
    for (a, s) in prefix.into_iter().chain(cycle) {
        path.actions.push(a);
        path.states.push(g.states[s].clone());
    }
    Lasso { path, loop_from }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::property::{ClientSteps, Kind};
    use crate::trace::Step;
    use stateright::Model;

    /// A light that blinks (`Tick`) until someone switches it off (`Off`); `off_in_both`
    /// says whether `Off` is enabled while the light is on too, or only while it is dark.
    struct Blink {
        off_in_both: bool,
    }

    #[derive(Clone, Debug, PartialEq)]
    enum Act {
        Tick,
        Off,
    }

    impl Model for Blink {
        type State = (bool, bool); // (lit, switched off)
        type Action = Act;
        fn init_states(&self) -> Vec<Self::State> {
            vec![(false, false)]
        }
        fn actions(&self, s: &Self::State, out: &mut Vec<Act>) {
            if !s.1 {
                out.push(Act::Tick);
                if self.off_in_both || !s.0 {
                    out.push(Act::Off);
                }
            }
        }
        fn next_state(&self, s: &Self::State, a: Act) -> Option<Self::State> {
            Some(match a {
                Act::Tick => (!s.0, false),
                Act::Off => (s.0, true),
            })
        }
    }

    impl Narrate for Blink {
        type Packed = (bool, bool);
        fn pack(&self, s: Self::State) -> Self::Packed {
            s
        }
        fn unpack(&self, p: &Self::Packed) -> Self::State {
            *p
        }
        fn start(&self, _: &Self::State) -> Vec<String> {
            vec!["dark".into()]
        }
        fn step(&self, _: &Self::State, a: &Act, _: &Self::State) -> Step {
            Step {
                step: 0,
                actor: "light".into(),
                to: None,
                action: "timeout".into(),
                text: format!("{a:?}"),
                changes: Vec::new(),
            }
        }
    }

    fn switched_off() -> Property<Blink> {
        Property {
            name: "switched_off",
            claim: "the light is eventually switched off",
            kind: Kind::Eventually,
            client_steps: ClientSteps::Visible,
            check: |_, s| s.1,
            values: |_, s| format!("{s:?}"),
        }
    }

    #[test]
    fn a_fair_cycle_that_never_switches_off_is_a_lasso() {
        // `Off` is disabled while lit, so a run that blinks forever is weakly fair.
        let p = switched_off();
        let judged = judge(&Blink { off_in_both: false }, &[&p], 100)
            .ok()
            .unwrap();
        let Judged::Lasso(l) = &judged[0] else {
            panic!("the blinking run is fair and never switches off");
        };
        assert_eq!(l.loop_from, 0);
        assert_eq!(l.path.actions, vec![Act::Tick, Act::Tick]);
        assert_eq!(l.path.states.first(), l.path.states.last());
    }

    #[test]
    fn a_cycle_that_starves_a_step_enabled_all_along_it_is_not_fair() {
        let p = switched_off();
        let judged = judge(&Blink { off_in_both: true }, &[&p], 100)
            .ok()
            .unwrap();
        assert!(matches!(judged[0], Judged::NoCycleBreaks));
    }

    #[test]
    fn a_graph_over_the_limit_is_not_judged() {
        let p = switched_off();
        assert!(judge(&Blink { off_in_both: false }, &[&p], 1).is_err());
    }
}
