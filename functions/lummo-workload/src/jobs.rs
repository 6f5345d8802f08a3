//! `LummoJob` → Job and `LummoCronJob` → CronJob: the container model of
//! LummoDeployment, pod security defaults, no Reloader (a job's pods are not
//! restarted when configuration changes), no probes.

use crate::containers::{self, PodInput, Report};
use crate::spec::{ConcurrencyPolicy, LummoJobSpec, RestartPolicy};
use k8s_openapi::api::batch::v1::{CronJob, CronJobSpec, Job, JobSpec, JobTemplateSpec};
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use krm_sdk::{ResultItem, Value};
use lummo_core::function::Rendered;
use lummo_core::{names, pod, Spec};
use std::collections::BTreeMap;

pub const JOB_KIND: &str = "LummoJob";
pub const CRON_JOB_KIND: &str = "LummoCronJob";
const CRON_ONLY: [&str; 6] = [
    "schedule",
    "timeZone",
    "concurrencyPolicy",
    "startingDeadlineSeconds",
    "successfulJobsHistoryLimit",
    "failedJobsHistoryLimit",
];

/// Default `activeDeadlineSeconds` of a LummoJob: a Sync hook holds the whole
/// sync until it ends, so a hung one must fail.
pub const JOB_DEADLINE_SECONDS: i64 = 900;
/// Default `activeDeadlineSeconds` of a LummoCronJob's runs: with `Forbid`, a hung
/// run would keep every later one from starting.
pub const CRON_JOB_DEADLINE_SECONDS: i64 = 3600;
/// Default `startingDeadlineSeconds`: a run that could not start in time is
/// skipped (the CronJob controller also stops counting missed runs beyond it,
/// so it never gives up after 100 missed schedules).
pub const STARTING_DEADLINE_SECONDS: i64 = 300;

/// Which of the two kinds a spec is: they share a spec type and differ in checks
/// and in what they generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// `LummoJob`: a Job run once per sync.
    Job,
    /// `LummoCronJob`: a CronJob.
    CronJob,
}

impl JobKind {
    pub fn kind(self) -> &'static str {
        match self {
            JobKind::Job => JOB_KIND,
            JobKind::CronJob => CRON_JOB_KIND,
        }
    }
}

/// `apps`: the apps of the package's LummoDeployments, whose selectors the job's
/// pods must not match.
pub fn render(spec: &Spec<LummoJobSpec>, kind: JobKind, apps: &[&str]) -> Rendered {
    let mut report = Report::new(&spec.object);
    let s = &spec.spec;
    let name = spec.name();
    if apps.contains(&name) {
        report.push(
            ResultItem::error(format!(
                "a job named `{name}` would label its pods `app.kubernetes.io/name: {name}`, which the LummoDeployment of app `{name}` selects: name it e.g. `{name}-job`"
            ))
            .for_object(&spec.object)
            .field("metadata.name"),
        );
    }
    if kind == JobKind::CronJob {
        if let Err(message) = names::cron_job_name(name) {
            let error = ResultItem::error(message)
                .for_object(&spec.object)
                .field("metadata.name");
            report.push(error);
        }
    }
    check_job_fields(&mut report, spec, kind);
    let input = PodInput {
        app: &s.app,
        containers: &s.containers,
        datadog: s.monitoring.datadog,
        long_running: false,
    };
    let (containers, _) = containers::build(&mut report, &input);
    if report.failed() {
        return report.rendered(Vec::new());
    }
    let labels = job_labels(name, &s.app, s.part_of.as_deref(), kind);
    // The job's traces belong to its app's Datadog service.
    let datadog = if s.monitoring.datadog {
        containers::datadog_labels(
            &mut report,
            &s.app,
            s.environment.as_deref(),
            s.containers.first().and_then(|c| c.image.as_deref()),
        )
    } else {
        BTreeMap::new()
    };
    if report.failed() {
        return report.rendered(Vec::new());
    }
    let mut labels = labels;
    labels.extend(datadog);
    let template = pod_template(s, &labels, containers);
    let job = JobSpec {
        backoff_limit: s.backoff_limit,
        active_deadline_seconds: Some(s.active_deadline_seconds.unwrap_or(match kind {
            JobKind::Job => JOB_DEADLINE_SECONDS,
            JobKind::CronJob => CRON_JOB_DEADLINE_SECONDS,
        })),
        ttl_seconds_after_finished: s.ttl_seconds_after_finished,
        template,
        ..Default::default()
    };
    let mut metadata = ObjectMeta {
        name: Some(name.into()),
        labels: Some(labels.clone()),
        ..Default::default()
    };
    let object = if kind == JobKind::CronJob {
        let cron_job = CronJob {
            metadata,
            spec: Some(CronJobSpec {
                schedule: s.schedule.clone().unwrap_or_default(),
                time_zone: s.time_zone.clone(),
                concurrency_policy: Some(format!(
                    "{:?}",
                    s.concurrency_policy.unwrap_or(ConcurrencyPolicy::Forbid)
                )),
                starting_deadline_seconds: Some(
                    s.starting_deadline_seconds
                        .unwrap_or(STARTING_DEADLINE_SECONDS),
                ),
                successful_jobs_history_limit: s.successful_jobs_history_limit,
                failed_jobs_history_limit: s.failed_jobs_history_limit,
                suspend: s.suspend.then_some(true),
                job_template: JobTemplateSpec {
                    metadata: Some(ObjectMeta {
                        labels: Some(labels),
                        ..Default::default()
                    }),
                    spec: Some(job),
                },
            }),
            status: None,
        };
        lummo_core::typed_object(&cron_job)
    } else {
        // Every LummoJob is an Argo CD Sync hook in wave 1 (see `hook_annotations`).
        metadata.annotations = Some(hook_annotations());
        lummo_core::typed_object(&Job {
            metadata,
            spec: Some(job),
            status: None,
        })
    };
    report.rendered(vec![object])
}

/// The pod of a job's spec: restricted, no service links, a writable `/tmp`.
fn pod_template(
    s: &LummoJobSpec,
    labels: &BTreeMap<String, String>,
    containers: Vec<core::Container>,
) -> core::PodTemplateSpec {
    let (tmp, _) = pod::tmp_volume();
    core::PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(labels.clone()),
            ..Default::default()
        }),
        spec: Some(core::PodSpec {
            restart_policy: Some(
                if s.restart_policy == RestartPolicy::OnFailure {
                    "OnFailure"
                } else {
                    "Never"
                }
                .into(),
            ),
            automount_service_account_token: Some(s.automount_service_account_token),
            service_account_name: s.service_account_name.as_ref().map(|n| n.to_string()),
            enable_service_links: Some(false),
            security_context: Some(pod::pod_security_context()),
            containers,
            volumes: Some(vec![tmp]),
            ..Default::default()
        }),
    }
}

/// How a Job runs under Argo CD (deploy/argocd/application.yaml: automated sync
/// with prune and selfHeal).
///
/// A Sync hook, not a PreSync one: PreSync runs before anything of the Sync phase
/// is applied, so a first sync deadlocks on the app's ConfigMaps, the database
/// Secret and the pgbouncer Service the migration needs. In wave 1 it runs after
/// wave 0 (configuration, secrets, pgbouncer) is healthy and before the app's
/// wave 2 ([`lummo_core::APP_WAVE`]): a migration still precedes the new Rollout.
///
/// A hook for plain jobs too: as an ordinary resource, a finished Job deleted by
/// `ttlSecondsAfterFinished` is missing from the cluster, so self-heal recreates
/// it and it runs again, forever; and a changed image cannot be applied to it (a
/// Job's pod template is immutable). Hooks are not part of the Application's
/// sync status (argo-cd controller/state.go skips them), and `BeforeHookCreation`
/// deletes the previous run when the next sync creates it (gitops-engine
/// pkg/sync/doc.go: a named hook persists across syncs unless a deletion policy
/// removes it). So a LummoJob runs once per sync operation of its Application.
pub fn hook_annotations() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("argocd.argoproj.io/hook".to_string(), "Sync".to_string()),
        (
            "argocd.argoproj.io/hook-delete-policy".to_string(),
            "BeforeHookCreation".to_string(),
        ),
        (
            lummo_core::SYNC_WAVE.to_string(),
            lummo_core::JOB_WAVE.to_string(),
        ),
    ])
}

/// Labels of a job and its pods. A job's pods must not match any selector of its
/// app (`app.kubernetes.io/name: <app>`): the app's Service would send them
/// traffic, its PodDisruptionBudget would count completed job pods as unavailable
/// (and block node drains) and KEDA's HPA would average their CPU into the app's
/// (checked by the selector model, scripts/models.py). So a job is named after
/// itself and points at its app with `lummo.dev/app`, which no selector uses.
pub fn job_labels(
    name: &str,
    app: &str,
    part_of: Option<&str>,
    kind: JobKind,
) -> BTreeMap<String, String> {
    let mut labels = lummo_core::labels(name, part_of);
    labels.insert(
        "app.kubernetes.io/component".into(),
        match kind {
            JobKind::Job => "job",
            JobKind::CronJob => "cronjob",
        }
        .into(),
    );
    labels.insert(lummo_core::APP_LABEL.into(), app.into());
    labels
}

fn check_job_fields(report: &mut Report, spec: &Spec<LummoJobSpec>, kind: JobKind) {
    let s = &spec.spec;
    let given = spec.object.get("spec").and_then(Value::as_object);
    if kind == JobKind::Job {
        for field in CRON_ONLY
            .iter()
            .filter(|f| given.is_some_and(|g| g.contains_key(**f)))
        {
            report.error(
                field,
                format!("`{field}` belongs to LummoCronJob; a LummoJob runs once"),
            );
        }
    } else {
        if s.migration {
            report.error(
                "migration",
                "a migration is a LummoJob run before each rollout, not a LummoCronJob",
            );
        }
        match &s.schedule {
            None => report.error(
                "schedule",
                "a LummoCronJob needs a `schedule`, e.g. `*/15 * * * *` or `@daily`",
            ),
            Some(schedule) => {
                if let Err(message) = check_cron(schedule) {
                    report.error("schedule", message);
                }
            }
        }
        if let Some(zone) = &s.time_zone {
            if let Err(message) = check_time_zone(zone) {
                report.error("timeZone", message);
            }
        }
    }
    for (field, value) in [
        ("backoffLimit", s.backoff_limit.map(i64::from)),
        ("activeDeadlineSeconds", s.active_deadline_seconds),
        (
            "ttlSecondsAfterFinished",
            s.ttl_seconds_after_finished.map(i64::from),
        ),
        ("startingDeadlineSeconds", s.starting_deadline_seconds),
        (
            "successfulJobsHistoryLimit",
            s.successful_jobs_history_limit.map(i64::from),
        ),
        (
            "failedJobsHistoryLimit",
            s.failed_jobs_history_limit.map(i64::from),
        ),
    ] {
        if value.is_some_and(|v| v < 0) || (field == "activeDeadlineSeconds" && value == Some(0)) {
            report.error(
                field,
                format!(
                    "must be {}, found {}",
                    if field == "activeDeadlineSeconds" {
                        "positive"
                    } else {
                        "0 or more"
                    },
                    value.unwrap_or_default()
                ),
            );
        }
    }
}

const FIELDS: [(&str, u32, u32, &[&str]); 5] = [
    ("minute", 0, 59, &[]),
    ("hour", 0, 23, &[]),
    ("day-of-month", 1, 31, &[]),
    (
        "month",
        1,
        12,
        &[
            "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
        ],
    ),
    (
        "day-of-week",
        0,
        7,
        &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
    ),
];

/// A cron expression as Kubernetes' CronJob controller parses it.
pub fn check_cron(schedule: &str) -> Result<(), String> {
    let trimmed = schedule.trim();
    if trimmed.starts_with("TZ=") || trimmed.starts_with("CRON_TZ=") {
        return Err("Kubernetes rejects a time zone inside the schedule: use `timeZone`".into());
    }
    if let Some(macro_name) = trimmed.strip_prefix('@') {
        return match macro_name {
            "yearly" | "annually" | "monthly" | "weekly" | "daily" | "midnight" | "hourly" => {
                Ok(())
            }
            _ => Err(format!(
                "`{trimmed}` is not a schedule macro (@yearly, @monthly, @weekly, @daily, @hourly)"
            )),
        };
    }
    let fields: Vec<&str> = trimmed.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "`{trimmed}` has {} fields; a schedule has 5: minute hour day-of-month month day-of-week",
            fields.len()
        ));
    }
    for (text, (name, min, max, names)) in fields.iter().zip(FIELDS) {
        for part in text.split(',') {
            check_cron_part(part, min, max, names)
                .map_err(|why| format!("{name} field `{text}`: {why}"))?;
        }
    }
    Ok(())
}

fn check_cron_part(part: &str, min: u32, max: u32, names: &[&str]) -> Result<(), String> {
    let (range, step) = match part.split_once('/') {
        Some((range, step)) => (range, Some(step)),
        None => (part, None),
    };
    if let Some(step) = step {
        match step.parse::<u32>() {
            Ok(n) if n >= 1 => {}
            _ => return Err(format!("step `{step}` must be a positive number")),
        }
    }
    if range == "*" || range == "?" {
        return Ok(());
    }
    let value = |text: &str| -> Result<u32, String> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(text)) {
            return Ok(i as u32 + min);
        }
        match text.parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            Ok(n) => Err(format!("{n} is out of range {min}-{max}")),
            Err(_) => Err(format!("`{text}` is not a number")),
        }
    };
    match range.split_once('-') {
        Some((low, high)) => {
            let (low, high) = (value(low)?, value(high)?);
            if low > high {
                return Err(format!("range {low}-{high} runs backwards"));
            }
        }
        None => {
            value(range)?;
        }
    }
    Ok(())
}

/// An IANA zone name in form (`UTC`, `Asia/Jakarta`); the cluster checks it exists.
fn check_time_zone(zone: &str) -> Result<(), String> {
    let valid = !zone.is_empty()
        && zone != "Local"
        && !zone.contains("..")
        && zone.split('/').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+'))
        });
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{zone}` is not an IANA time zone name (e.g. `UTC`, `Asia/Jakarta`)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_cron_expressions() {
        for ok in [
            "*/15 * * * *",
            "0 3 * * MON-FRI",
            "30 2 1,15 * ?",
            "@daily",
            "0 0 1 JAN *",
            "5-10/2 */6 * * 0-7",
        ] {
            assert!(check_cron(ok).is_ok(), "{ok}");
        }
        for (bad, message) in [
            ("61 * * * *", "minute field `61`: 61 is out of range 0-59"),
            ("* * * *", "`* * * *` has 4 fields; a schedule has 5: minute hour day-of-month month day-of-week"),
            ("0 0 * FOO *", "month field `FOO`: `FOO` is not a number"),
            ("*/0 * * * *", "minute field `*/0`: step `0` must be a positive number"),
            ("0 5-3 * * *", "hour field `5-3`: range 5-3 runs backwards"),
            ("@every 5m", "`@every 5m` is not a schedule macro (@yearly, @monthly, @weekly, @daily, @hourly)"),
            ("CRON_TZ=UTC 0 * * * *", "Kubernetes rejects a time zone inside the schedule: use `timeZone`"),
        ] {
            assert_eq!(check_cron(bad).unwrap_err(), message, "{bad}");
        }
    }
}
