//! Experiments: does variant B of a step get paid more often, or sooner, than variant A?
//!
//! The unit is a case step carried out for one customer in one cycle (as in
//! [`crate::effectiveness`]), tagged with the customer's arm. Only the steps at least
//! [`WINDOW_DAYS`] days old on `as_of` count, so that both arms are judged on complete windows.
//!
//! Two comparisons, B minus A:
//! - the share paid within 14 days, with Newcombe's hybrid score interval (built from the two
//!   Wilson intervals; it behaves with small counts and shares near 0 or 1);
//! - the mean days from the step to the first payment, over the steps paid within
//!   [`DAYS_HORIZON`] days, with Welch's interval (unequal variances; Student quantile from the
//!   Cornish–Fisher expansion).
//!
//! Both intervals are at 97.5 % each, so that the chance of naming a winner where there is no
//! difference stays under 5 % for the pair (Bonferroni). A verdict is only given once each arm
//! has [`MIN_PER_ARM`] steps in the window; before that it is "not enough data yet". Pure and
//! deterministic: no random draws, no clock.

use chrono::NaiveDate;
use serde::Serialize;

use crate::planner::Variant;

/// The payment window compared, in days after the step.
pub const WINDOW_DAYS: i64 = 14;
/// Payments later than this are not counted in the days-to-payment comparison (a debt paid a
/// year later says little about a message).
pub const DAYS_HORIZON: i64 = 90;
/// Steps per arm (at least [`WINDOW_DAYS`] old) before any verdict.
pub const MIN_PER_ARM: u64 = 30;
/// Paid steps per arm before the days-to-payment comparison may decide.
pub const MIN_PAID_PER_ARM: u64 = 10;
/// Normal quantile for a two-sided 97.5 % interval (each of the two comparisons).
const Z: f64 = 2.241_402_727_604_947;

/// One step carried out for one customer, its arm and the first payment on or after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmOutcome {
    pub variant: Variant,
    pub day: NaiveDate,
    pub paid_on: Option<NaiveDate>,
}

/// The figures of one arm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArmStats {
    pub variant: Variant,
    /// Steps carried out on or before `as_of`.
    pub cases: u64,
    /// Of those, at least 14 days old: how many, how many paid within 14 days, and the share.
    pub seen: u64,
    pub paid_within_14: u64,
    pub rate: Option<f64>,
    /// Steps (at least 14 days old) paid within [`DAYS_HORIZON`] days: count, mean and median
    /// days to payment.
    pub paid: u64,
    pub mean_days: Option<f64>,
    pub median_days: Option<f64>,
}

/// A difference B − A with its interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Difference {
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
}

impl Difference {
    /// The interval lies wholly on one side of 0.
    pub fn excludes_zero(&self) -> bool {
        self.low > 0.0 || self.high < 0.0
    }
}

/// What the comparison says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Verdict {
    /// An arm has fewer than [`MIN_PER_ARM`] steps old enough.
    NotEnoughData { smallest_arm: u64, needed: u64 },
    /// `winner` is paid more often within 14 days, or (same rate) sooner.
    Winner { winner: Variant, by_rate: bool },
    /// Enough data, and neither difference is clear.
    NoClearDifference,
}

/// The comparison of one experiment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExperimentReport {
    pub a: ArmStats,
    pub b: ArmStats,
    /// Share paid within 14 days, B − A (0–1 scale).
    pub rate_difference: Option<Difference>,
    /// Mean days to payment, B − A (negative: B pays sooner).
    pub days_difference: Option<Difference>,
    pub verdict: Verdict,
    /// Confidence of each interval, in percent.
    pub confidence: f64,
}

impl ExperimentReport {
    /// The verdict in plain words (`lang` "fr…" for French, else English).
    pub fn verdict_text(&self, lang: &str) -> String {
        let fr = lang.starts_with("fr");
        match self.verdict {
            Verdict::NotEnoughData {
                smallest_arm,
                needed,
            } => {
                if fr {
                    format!(
                        "Pas encore assez de données : {smallest_arm} relance(s) de plus de 14 jours dans le plus petit groupe, il en faut {needed}."
                    )
                } else {
                    format!(
                        "Not enough data yet: {smallest_arm} step(s) older than 14 days in the smaller arm, {needed} needed."
                    )
                }
            }
            Verdict::NoClearDifference => {
                if fr {
                    "Pas de différence nette entre A et B : ni le taux de paiement à 14 jours ni le délai de paiement ne départagent les variantes.".to_string()
                } else {
                    "No clear difference between A and B: neither the 14-day payment rate nor the days to payment tell the variants apart.".to_string()
                }
            }
            Verdict::Winner { winner, by_rate } => {
                let loser = match winner {
                    Variant::A => Variant::B,
                    Variant::B => Variant::A,
                };
                if by_rate {
                    let d = self.rate_difference.unwrap_or(Difference {
                        estimate: 0.0,
                        low: 0.0,
                        high: 0.0,
                    });
                    let (est, lo, hi) = oriented(d, winner, 100.0);
                    if fr {
                        format!(
                            "La variante {winner} l'emporte : {est:.1} points de plus payés sous 14 jours que la variante {loser} (intervalle {lo:.1} à {hi:.1})."
                        )
                    } else {
                        format!(
                            "Variant {winner} wins: {est:.1} points more paid within 14 days than variant {loser} (interval {lo:.1} to {hi:.1})."
                        )
                    }
                } else {
                    let d = self.days_difference.unwrap_or(Difference {
                        estimate: 0.0,
                        low: 0.0,
                        high: 0.0,
                    });
                    let (est, lo, hi) = oriented(d, winner, -1.0);
                    if fr {
                        format!(
                            "La variante {winner} l'emporte : payée {est:.1} jours plus tôt en moyenne que la variante {loser} (intervalle {lo:.1} à {hi:.1})."
                        )
                    } else {
                        format!(
                            "Variant {winner} wins: paid {est:.1} days sooner on average than variant {loser} (interval {lo:.1} to {hi:.1})."
                        )
                    }
                }
            }
        }
    }
}

/// A B − A difference seen from the winner's side and scaled (`scale` negative flips it).
fn oriented(d: Difference, winner: Variant, scale: f64) -> (f64, f64, f64) {
    let sign = if winner == Variant::B { scale } else { -scale };
    let (a, b) = (d.low * sign, d.high * sign);
    (d.estimate * sign, a.min(b), a.max(b))
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(|a, b| a.total_cmp(b));
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

/// Days-to-payment samples (steps in the window, paid within the horizon) and the arm's figures.
fn arm(outcomes: &[ArmOutcome], variant: Variant, as_of: NaiveDate) -> (ArmStats, Vec<f64>) {
    let mine: Vec<&ArmOutcome> = outcomes
        .iter()
        .filter(|o| o.variant == variant && o.day <= as_of)
        .collect();
    let old: Vec<&&ArmOutcome> = mine
        .iter()
        .filter(|o| (as_of - o.day).num_days() >= WINDOW_DAYS)
        .collect();
    let delay = |o: &ArmOutcome| {
        o.paid_on
            .filter(|p| *p <= as_of && *p >= o.day)
            .map(|p| (p - o.day).num_days())
    };
    let paid_within = old
        .iter()
        .filter(|o| delay(o).is_some_and(|d| d <= WINDOW_DAYS))
        .count() as u64;
    let mut days: Vec<f64> = old
        .iter()
        .filter_map(|o| delay(o))
        .filter(|d| *d <= DAYS_HORIZON)
        .map(|d| d as f64)
        .collect();
    let seen = old.len() as u64;
    let mean = (!days.is_empty()).then(|| days.iter().sum::<f64>() / days.len() as f64);
    let stats = ArmStats {
        variant,
        cases: mine.len() as u64,
        seen,
        paid_within_14: paid_within,
        rate: (seen > 0).then(|| paid_within as f64 / seen as f64),
        paid: days.len() as u64,
        mean_days: mean,
        median_days: median(&mut days.clone()),
    };
    days.sort_by(|a, b| a.total_cmp(b));
    (stats, days)
}

/// Wilson score interval of `k` successes in `n` (n > 0).
pub fn wilson(k: u64, n: u64, z: f64) -> (f64, f64) {
    let n = n as f64;
    let p = k as f64 / n;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Newcombe's hybrid score interval of p_b − p_a.
pub fn newcombe(ka: u64, na: u64, kb: u64, nb: u64, z: f64) -> Option<Difference> {
    if na == 0 || nb == 0 {
        return None;
    }
    let (pa, pb) = (ka as f64 / na as f64, kb as f64 / nb as f64);
    let (la, ua) = wilson(ka, na, z);
    let (lb, ub) = wilson(kb, nb, z);
    let d = pb - pa;
    Some(Difference {
        estimate: d,
        low: d - ((pb - lb).powi(2) + (ua - pa).powi(2)).sqrt(),
        high: d + ((ub - pb).powi(2) + (pa - la).powi(2)).sqrt(),
    })
}

/// Student's t quantile for normal quantile `z` and `df` degrees of freedom (Cornish–Fisher;
/// within 0.01 of the tables from 5 degrees of freedom on).
fn t_quantile(z: f64, df: f64) -> f64 {
    let (z3, z5, z7) = (z.powi(3), z.powi(5), z.powi(7));
    z + (z3 + z) / (4.0 * df)
        + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * df * df)
        + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * df.powi(3))
}

/// Welch's interval of mean(b) − mean(a) (each sample of at least 2 values).
pub fn welch(a: &[f64], b: &[f64], z: f64) -> Option<Difference> {
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let stats = |x: &[f64]| {
        let n = x.len() as f64;
        let mean = x.iter().sum::<f64>() / n;
        let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (n, mean, var)
    };
    let (na, ma, va) = stats(a);
    let (nb, mb, vb) = stats(b);
    let (sa, sb) = (va / na, vb / nb);
    let se2 = sa + sb;
    let d = mb - ma;
    if se2 <= 0.0 {
        // Both samples constant: the difference is exact.
        return Some(Difference {
            estimate: d,
            low: d,
            high: d,
        });
    }
    let df = se2 * se2 / (sa * sa / (na - 1.0) + sb * sb / (nb - 1.0));
    let half = t_quantile(z, df.max(1.0)) * se2.sqrt();
    Some(Difference {
        estimate: d,
        low: d - half,
        high: d + half,
    })
}

/// Compares the two arms of an experiment on `as_of`.
pub fn compare(outcomes: &[ArmOutcome], as_of: NaiveDate) -> ExperimentReport {
    let (a, days_a) = arm(outcomes, Variant::A, as_of);
    let (b, days_b) = arm(outcomes, Variant::B, as_of);
    let rate_difference = newcombe(a.paid_within_14, a.seen, b.paid_within_14, b.seen, Z);
    let days_difference = welch(&days_a, &days_b, Z);
    let smallest = a.seen.min(b.seen);
    let verdict = if smallest < MIN_PER_ARM {
        Verdict::NotEnoughData {
            smallest_arm: smallest,
            needed: MIN_PER_ARM,
        }
    } else if let Some(d) = rate_difference.filter(Difference::excludes_zero) {
        Verdict::Winner {
            winner: if d.estimate > 0.0 {
                Variant::B
            } else {
                Variant::A
            },
            by_rate: true,
        }
    } else if let Some(d) = days_difference
        .filter(Difference::excludes_zero)
        .filter(|_| a.paid.min(b.paid) >= MIN_PAID_PER_ARM)
    {
        Verdict::Winner {
            winner: if d.estimate < 0.0 {
                Variant::B
            } else {
                Variant::A
            },
            by_rate: false,
        }
    } else {
        Verdict::NoClearDifference
    };
    ExperimentReport {
        a,
        b,
        rate_difference,
        days_difference,
        verdict,
        confidence: 97.5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 0.001
    }

    #[test]
    fn wilson_and_newcombe_match_published_values() {
        // Newcombe (1998), example (a): 56/70 vs 48/80 → difference 0.2, interval 0.0524 to 0.3339.
        let d = newcombe(48, 80, 56, 70, 1.959_963_984_540_054).expect("interval");
        assert!(close(d.estimate, 0.2), "{d:?}");
        assert!(close(d.low, 0.0524), "{d:?}");
        assert!(close(d.high, 0.3339), "{d:?}");
        let (l, u) = wilson(0, 10, 1.959_963_984_540_054);
        assert!(close(l, 0.0) && close(u, 0.2775), "{l} {u}");
    }

    #[test]
    fn welch_interval_matches_a_hand_computation() {
        // a: mean 3, var 2.5 (n 5); b: mean 6, var 2.5 (n 5); se = 1, df = 8, t(0.975, 8) = 2.306.
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        let b = [4.0, 5.0, 6.0, 7.0, 8.0];
        let d = welch(&a, &b, 1.959_963_984_540_054).expect("interval");
        assert!(close(d.estimate, 3.0));
        assert!((d.high - d.estimate - 2.306).abs() < 0.01, "{d:?}");
    }

    #[test]
    fn the_student_quantile_is_close_to_the_tables() {
        let z = 1.959_963_984_540_054;
        for (df, t) in [
            (5.0, 2.5706),
            (10.0, 2.2281),
            (30.0, 2.0423),
            (100.0, 1.9840),
        ] {
            assert!((t_quantile(z, df) - t).abs() < 0.01, "df {df}");
        }
    }
}
