//! `splitbrain slurm`: a shell script that submits a sharded search to a Slurm cluster,
//! an array job with one task per shard and a merge job that starts when every task has
//! ended (`--dependency=afterany`), so a failed or killed shard still gets merged and
//! reported as missing.

/// What the job runs, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobSpec {
    /// The arguments of `splitbrain check` (model first), without `--shard` or `--out*`.
    pub check_args: Vec<String>,
    /// Shards: array tasks `0..shards`.
    pub shards: u32,
    /// The results directory (made absolute when the script runs).
    pub results: String,
    /// The splitbrain binary, on a path every node sees.
    pub binary: String,
    /// Job name.
    pub name: String,
    /// `sbatch --partition`.
    pub partition: Option<String>,
    /// `sbatch --time` of each shard and of the merge.
    pub time: Option<String>,
    /// `sbatch --cpus-per-task` (the check's `--threads`).
    pub cpus: u16,
    /// The command line that wrote the script (for its header).
    pub written_by: String,
}

/// Quotes `s` as one POSIX shell word: plain words stay as they are; anything else is
/// single-quoted, so nothing in it is expanded.
pub fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,+@%".contains(c));
    if plain {
        return s.to_string();
    }
    single_quote(s)
}

/// Quotes `s` as a single-quoted shell word.
fn single_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// `s` for a comment line: control characters (a newline would end the comment and
/// start a command) shown as `?`.
fn comment(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// The job script.
pub fn script(spec: &JobSpec) -> String {
    let n = spec.shards;
    let check: Vec<String> = spec.check_args.iter().map(|a| quote(a)).collect();
    let mut common = format!("--ntasks=1 --cpus-per-task={}", spec.cpus);
    if let Some(p) = &spec.partition {
        common.push_str(&format!(" --partition={}", single_quote(p)));
    }
    if let Some(t) = &spec.time {
        common.push_str(&format!(" --time={}", single_quote(t)));
    }
    format!(
        r#"#!/usr/bin/env bash
# A sharded splitbrain search for Slurm, written by:
#   {written_by}
# Run it where sbatch works (a login node):  bash this-script.sh
# It submits two jobs:
#   1. an array of {n} tasks: task I runs shard I/{n} of the search and writes
#      $RESULTS/shard-I-of-{n}.json atomically (a task that dies leaves no file);
#   2. a merge job that starts once every task has ended, whatever their exit codes
#      (--dependency=afterany), and writes $RESULTS/merged.txt and merged.json. Its
#      exit code is check's: 0 as expected, 1 unexpected verdict, 3 incomplete
#      (random and swarm search never prove a property; a missing shard is reported).
# Environment: SPLITBRAIN, the binary (on a path every node sees); RESULTS, the
# results directory (on a file system every node shares). The jobs get both through
# their environment (the job scripts are quoted here-documents: no value given here
# ever becomes part of a command).
set -euo pipefail
SPLITBRAIN=${{SPLITBRAIN:-{binary}}}
RESULTS=${{RESULTS:-{results}}}
mkdir -p -- "$RESULTS"
RESULTS=$(cd -- "$RESULTS" && pwd)
export SPLITBRAIN RESULTS
if compgen -G "$RESULTS/shard-*-of-*.json" > /dev/null; then
  echo "error: $RESULTS already holds shard results; remove them or set RESULTS" >&2
  exit 1
fi

shards=$(sbatch --parsable --export=ALL --job-name={name} --array=0-{last} {common} \
  --output="$RESULTS/shard-%a-of-{n}.log" <<'EOF'
#!/usr/bin/env bash
exec "$SPLITBRAIN" check {check} --shard "$SLURM_ARRAY_TASK_ID/{n}" --out-dir "$RESULTS" --quiet
EOF
)
shards=${{shards%%;*}}

merge=$(sbatch --parsable --export=ALL --job-name={name}-merge --dependency=afterany:$shards {common} \
  --output="$RESULTS/merge.log" <<'EOF'
#!/usr/bin/env bash
"$SPLITBRAIN" merge "$RESULTS" --format json --quiet > "$RESULTS/merged.json"
"$SPLITBRAIN" merge "$RESULTS" | tee "$RESULTS/merged.txt"
exit ${{PIPESTATUS[0]}}
EOF
)
merge=${{merge%%;*}}

echo "submitted: shards job $shards ({n} tasks), merge job $merge"
echo "results:   $RESULTS (merged.txt, merged.json when job $merge has ended)"
"#,
        written_by = comment(&spec.written_by),
        n = n,
        last = n.saturating_sub(1),
        binary = single_quote(&spec.binary),
        results = single_quote(&spec.results),
        name = single_quote(&spec.name),
        common = common,
        check = check.join(" "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_keeps_plain_words_and_protects_the_rest() {
        assert_eq!(quote("master-master"), "master-master");
        assert_eq!(quote("--seed=7"), "--seed=7");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote("$HOME"), "'$HOME'");
        assert_eq!(quote(""), "''");
    }

    #[test]
    fn no_value_given_becomes_a_command() {
        let spec = JobSpec {
            check_args: vec![
                "master-master".into(),
                "--variant".into(),
                "$(touch /tmp/x)".into(),
            ],
            shards: 4,
            results: "r$(touch /tmp/pwned)`id`".into(),
            binary: "/opt/sb/splitbrain".into(),
            name: "sb'; rm -rf ~; '".into(),
            partition: None,
            time: None,
            cpus: 1,
            written_by: "splitbrain slurm\nrm -rf ~".into(),
        };
        let text = script(&spec);
        // The job bodies are quoted here-documents: their text is run as written.
        assert_eq!(text.matches("<<'EOF'").count(), 2, "{text}");
        assert!(!text.contains("<<EOF"));
        assert!(
            text.contains("RESULTS=${RESULTS:-'r$(touch /tmp/pwned)`id`'}"),
            "{text}"
        );
        assert!(text.contains("'$(touch /tmp/x)'"), "{text}");
        assert!(
            !text.contains("\nrm -rf ~"),
            "a newline in the header ends the comment"
        );
    }
}
