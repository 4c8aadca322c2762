//! Properties, declared once: a name that states the claim, the claim in plain words,
//! a kind and a check. Both engines, the CLI and `proofs/` read the same declaration.

use serde::Serialize;
use stateright::{Expectation, Model};
use std::fmt;

/// How a property's check is judged over the runs of a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// The check is true in every reachable state.
    Always,
    /// Every run that comes to rest (no step left to take) ends in a state where the check
    /// is true. Runs that never come to rest are not judged.
    Eventually,
    /// Some reachable state makes the check true (an example run is shown).
    Sometimes,
}

impl Kind {
    /// The word used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Always => "always",
            Kind::Eventually => "eventually",
            Kind::Sometimes => "sometimes",
        }
    }

    /// The matching stateright expectation (used by the baseline checker).
    pub fn expectation(self) -> Expectation {
        match self {
            Kind::Always => Expectation::Always,
            Kind::Eventually => Expectation::Eventually,
            Kind::Sometimes => Expectation::Sometimes,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a client's step can do to a property's check: what the partial-order reduction
/// (`--reduce por`) needs to know before it leaves some orders of client steps unexplored.
/// `tests/engines.rs` audits every declaration over the whole state space of every catalog
/// model ([`crate::reduction::audit`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientSteps {
    /// No client step ever changes the check's value: it reads only the servers and the
    /// messages between them.
    Invisible,
    /// Once the check is false (for a `sometimes` property: true) it stays so whatever
    /// happens next, e.g. a violation written into a client's history.
    Stable,
    /// The check reads only what clients did and in which order (a real-time history):
    /// no step but a client's changes it, and once it is false it stays false. While it is
    /// undecided no client steps are reordered; under `--reduce por` such properties are
    /// searched apart from the others, without persistent sets, so that the others' search
    /// may reorder client steps (see [`crate::exhaustive::search_on`]).
    Order,
    /// None of these: while the property is undecided the search is not reduced.
    Visible,
}

/// A named claim about a model `M`.
pub struct Property<M: Model> {
    /// snake_case name that states the claim, e.g. `no_negative_balance`.
    pub name: &'static str,
    /// The claim in plain words, e.g. "no account balance is ever below zero".
    pub claim: &'static str,
    /// How the check is judged.
    pub kind: Kind,
    /// What client steps can do to the check (ignored for `eventually` properties, which
    /// are judged where runs come to rest: every reduction keeps those states).
    pub client_steps: ClientSteps,
    /// True when the claim holds in this state.
    pub check: fn(&M, &M::State) -> bool,
    /// The values the check looks at, in words ("master2 holds -5"): printed under a
    /// counterexample to say what broke.
    pub values: fn(&M, &M::State) -> String,
}

impl<M: Model> Clone for Property<M> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<M: Model> Copy for Property<M> {}

impl<M: Model> Property<M> {
    /// A claim true in every reachable state. Client steps are taken as visible to it (no
    /// reduction assumes otherwise) and nothing is printed under a counterexample but the
    /// claim: see [`Property::with_values`].
    pub fn always(
        name: &'static str,
        claim: &'static str,
        check: fn(&M, &M::State) -> bool,
    ) -> Self {
        Property {
            name,
            claim,
            kind: Kind::Always,
            client_steps: ClientSteps::Visible,
            check,
            values: |_, _| String::new(),
        }
    }
    /// A claim true wherever a run comes to rest, and on every fair run that never does.
    pub fn eventually(
        name: &'static str,
        claim: &'static str,
        check: fn(&M, &M::State) -> bool,
    ) -> Self {
        Property {
            kind: Kind::Eventually,
            ..Property::always(name, claim, check)
        }
    }
    /// A claim some reachable state makes true (the shortest example is shown).
    pub fn sometimes(
        name: &'static str,
        claim: &'static str,
        check: fn(&M, &M::State) -> bool,
    ) -> Self {
        Property {
            kind: Kind::Sometimes,
            ..Property::always(name, claim, check)
        }
    }
    /// The values printed under a counterexample to say what broke ("master2 holds -5").
    pub fn with_values(self, values: fn(&M, &M::State) -> String) -> Self {
        Property { values, ..self }
    }

    /// The declaration without its check: what the CLI lists.
    pub fn info(&self) -> PropertyInfo {
        PropertyInfo {
            name: self.name,
            claim: self.claim,
            kind: self.kind,
        }
    }

    /// The same property as a stateright [`stateright::Property`], for stateright's own checkers.
    pub fn to_stateright(&self) -> stateright::Property<M> {
        stateright::Property {
            expectation: self.kind.expectation(),
            name: self.name,
            condition: self.check,
        }
    }
}

/// A property's declaration without its check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PropertyInfo {
    /// snake_case name.
    pub name: &'static str,
    /// One-line claim.
    pub claim: &'static str,
    /// always / eventually / sometimes.
    pub kind: Kind,
}
