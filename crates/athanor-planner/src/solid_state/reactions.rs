//! Pairwise reactions learned from the phases a run produced: every phase that was not a
//! precursor is attributed to the one precursor (decomposition, oxidation) or the pair whose
//! cations cover its own, and remembered with the temperature it was seen at and the
//! conditions (atmosphere, dwell, …) it was seen under. A run under other conditions whose
//! reactants did not give it marks it absent there. Applying the learned reactions to a
//! precursor set predicts the phases it holds at a temperature under given conditions, each
//! with a weight: 1 where reactions seen under those conditions say so, one half where only
//! reactions seen under other conditions (not yet contradicted) do.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::chemistry::{cations, phase_key};

/// The conditions of a run beyond precursors and temperature, by name.
pub type Conditions = BTreeMap<String, Value>;

/// Weight of a phase that only reactions seen under other conditions predict.
pub const OTHER_CONDITIONS_WEIGHT: f64 = 0.5;

/// `reactants → products`, seen at or below `temperature_c`.
#[derive(Debug, Clone, PartialEq)]
pub struct LearnedReaction {
    /// Phase names as first seen (keys compare them).
    pub reactants: Vec<String>,
    pub products: Vec<String>,
    pub temperature_c: f64,
    /// Conditions of the runs that showed it.
    pub seen_under: Vec<Conditions>,
    /// Conditions of runs whose reactants, at or above its temperature, did not give it.
    pub absent_under: Vec<Conditions>,
}

impl LearnedReaction {
    fn keys(names: &[String]) -> BTreeSet<String> {
        names.iter().map(|n| phase_key(n)).collect()
    }

    pub fn describe(&self) -> String {
        format!(
            "{} → {} at or below {} °C",
            self.reactants.join(" + "),
            self.products.join(" + "),
            self.temperature_c
        )
    }
}

/// Every reaction learned so far.
#[derive(Debug, Clone, Default)]
pub struct ReactionMemory {
    pub reactions: Vec<LearnedReaction>,
}

fn covers(have: &[String], need: &[String]) -> bool {
    !need.is_empty() && need.iter().all(|e| have.contains(e))
}

impl ReactionMemory {
    /// Learns from one run; returns the reactions that were new.
    pub fn learn(
        &mut self,
        precursors: &[String],
        temperature_c: f64,
        products: &[String],
        conditions: &Conditions,
    ) -> Vec<LearnedReaction> {
        let start: BTreeSet<String> = precursors.iter().map(|p| phase_key(p)).collect();
        let seen: BTreeSet<String> = products.iter().map(|p| phase_key(p)).collect();
        for r in &mut self.reactions {
            let applies = r.temperature_c <= temperature_c
                && LearnedReaction::keys(&r.reactants).is_subset(&start);
            let missing = !LearnedReaction::keys(&r.products).is_subset(&seen);
            if applies
                && missing
                && !r.seen_under.contains(conditions)
                && !r.absent_under.contains(conditions)
            {
                r.absent_under.push(conditions.clone());
            }
        }
        let mut available: Vec<String> = precursors.to_vec();
        let mut new_phases: Vec<&String> = products
            .iter()
            .filter(|p| !start.contains(&phase_key(p)))
            .collect();
        new_phases.sort_by_key(|p| cations(p).len());
        let mut learned = Vec::new();
        for product in new_phases {
            let need = cations(product);
            let single = available.iter().find(|a| covers(&cations(a), &need));
            let reactants: Option<Vec<String>> = match single {
                Some(a) => Some(vec![a.clone()]),
                None => available.iter().enumerate().find_map(|(i, a)| {
                    available[i + 1..].iter().find_map(|b| {
                        let (ca, cb) = (cations(a), cations(b));
                        let both: Vec<String> = ca.iter().chain(&cb).cloned().collect();
                        let each_helps = ca.iter().any(|e| need.contains(e))
                            && cb.iter().any(|e| need.contains(e));
                        (each_helps && covers(&both, &need)).then(|| vec![a.clone(), b.clone()])
                    })
                }),
            };
            if let Some(reactants) = reactants {
                let r = LearnedReaction {
                    reactants,
                    products: vec![product.clone()],
                    temperature_c,
                    seen_under: vec![conditions.clone()],
                    absent_under: Vec::new(),
                };
                self.remember(r.clone(), &mut learned);
            }
            available.push(product.clone());
        }
        learned
    }

    fn remember(&mut self, r: LearnedReaction, learned: &mut Vec<LearnedReaction>) {
        let (rk, pk) = (
            LearnedReaction::keys(&r.reactants),
            LearnedReaction::keys(&r.products),
        );
        match self.reactions.iter_mut().find(|o| {
            LearnedReaction::keys(&o.reactants) == rk && LearnedReaction::keys(&o.products) == pk
        }) {
            Some(old) => {
                old.temperature_c = old.temperature_c.min(r.temperature_c);
                for c in r.seen_under {
                    old.absent_under.retain(|a| *a != c);
                    if !old.seen_under.contains(&c) {
                        old.seen_under.push(c);
                    }
                }
            }
            None => {
                self.reactions.push(r.clone());
                learned.push(r);
            }
        }
    }

    /// Phase keys a set is predicted to hold at `temperature_c` under `conditions`, with their
    /// weights (see the module header).
    pub fn predict(
        &self,
        precursors: &[String],
        temperature_c: f64,
        conditions: &Conditions,
    ) -> BTreeMap<String, f64> {
        let usable = |r: &&LearnedReaction| {
            r.temperature_c <= temperature_c && !r.absent_under.contains(conditions)
        };
        let possible = Self::apply(precursors, self.reactions.iter().filter(usable));
        let here = Self::apply(
            precursors,
            self.reactions
                .iter()
                .filter(usable)
                .filter(|r| r.seen_under.contains(conditions)),
        );
        possible
            .union(&here)
            .map(|k| {
                let certain = possible.contains(k) && here.contains(k);
                let w = if certain {
                    1.0
                } else {
                    OTHER_CONDITIONS_WEIGHT
                };
                (k.clone(), w)
            })
            .collect()
    }

    /// The set's phases after applying `reactions` until nothing changes (reactants are
    /// consumed).
    fn apply<'a>(
        precursors: &[String],
        reactions: impl Iterator<Item = &'a LearnedReaction> + Clone,
    ) -> BTreeSet<String> {
        let mut phases: BTreeSet<String> = precursors.iter().map(|p| phase_key(p)).collect();
        for _ in 0..8 {
            let mut changed = false;
            for r in reactions.clone() {
                let rk = LearnedReaction::keys(&r.reactants);
                let pk = LearnedReaction::keys(&r.products);
                if rk.is_subset(&phases) && !pk.is_subset(&phases) {
                    for k in &rk {
                        phases.remove(k);
                    }
                    phases.extend(pk);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        phases
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn intermediates_are_attributed_to_the_pair_that_can_make_them() {
        let mut m = ReactionMemory::default();
        // Y2O3 + BaO2 + CuCO3 at 700 °C gave Y2O3, Ba2(CuO2)3, BaCuO2.
        let new = m.learn(
            &names(&["Y2O3", "BaO2", "CuCO3"]),
            700.0,
            &names(&["Y2O3", "Ba2(CuO2)3", "BaCuO2"]),
            &Conditions::new(),
        );
        // Ba2(CuO2)3 needs a Ba and a Cu source; BaCuO2 is then attributed to the first
        // phase that holds both (the Ba2(CuO2)3 just formed).
        assert_eq!(new.len(), 2);
        assert_eq!(new[0].reactants, names(&["BaO2", "CuCO3"]));
        // A different set with the same pair is predicted to form them too, but only at 700 °C.
        let none = Conditions::new();
        let at_700 = m.predict(&names(&["BaO2", "CuCO3", "Y2Cu2O5"]), 700.0, &none);
        assert!(
            at_700.get(&phase_key("BaCuO2")) == Some(&1.0)
                && !at_700.contains_key(&phase_key("BaO2")),
            "{at_700:?}"
        );
        let at_600 = m.predict(&names(&["BaO2", "CuCO3", "Y2Cu2O5"]), 600.0, &none);
        assert!(at_600.contains_key(&phase_key("BaO2")));
    }

    #[test]
    fn decompositions_come_from_one_precursor() {
        let mut m = ReactionMemory::default();
        let new = m.learn(
            &names(&["Y2(CO3)3", "BaO", "CuCO3"]),
            600.0,
            &names(&["BaCO3", "CuO", "Y2O3"]),
            &Conditions::new(),
        );
        let y = new.iter().find(|r| r.products == names(&["Y2O3"])).unwrap();
        assert_eq!(y.reactants, names(&["Y2(CO3)3"]));
    }

    #[test]
    fn a_reaction_seen_in_air_is_uncertain_under_argon_until_a_run_there_rules_it_out() {
        let mut m = ReactionMemory::default();
        let air = Conditions::from([("atmosphere".to_owned(), Value::from("air"))]);
        let argon = Conditions::from([("atmosphere".to_owned(), Value::from("Ar"))]);
        let set = names(&["Li2CO3", "Mn2O3", "TiO2"]);
        m.learn(&set, 700.0, &names(&["LiMn2O4", "TiO2", "Li2CO3"]), &air);
        let trap = phase_key("LiMn2O4");
        assert_eq!(m.predict(&set, 800.0, &air).get(&trap), Some(&1.0));
        assert_eq!(
            m.predict(&set, 800.0, &argon).get(&trap),
            Some(&OTHER_CONDITIONS_WEIGHT)
        );
        // Under argon at 800 °C the same set gave no LiMn2O4: not predicted there any more,
        // still predicted in air.
        m.learn(&set, 800.0, &names(&["LiMnTiO4"]), &argon);
        assert!(!m.predict(&set, 800.0, &argon).contains_key(&trap));
        assert_eq!(m.predict(&set, 800.0, &air).get(&trap), Some(&1.0));
    }
}
