//! Every instance and task of a scenario, and the scenario engine behind a clock as the
//! simulator's [`TaskSource`].

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::FixedOffset;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::task::{SourceReading, TaskSim};
use crate::model::Lsn;
use crate::probe::checklist::Finding;
use crate::sim::clock::{Calendar, Clock};
use crate::sim::error::SimError;
use crate::sim::scenario::{Scenario, TaskSpec};
use crate::sim::source::{NewTask, TaskSource, TaskView};

/// Tasks an instance may hold (CreateCloudMigrationTask beyond this is refused).
pub const MAX_TASKS_PER_INSTANCE: usize = 1000;

/// Every instance and task of a scenario.
pub struct World {
    instances: Vec<(String, Vec<TaskSim>)>,
    seed: u64,
    calendar: Calendar,
    tz: FixedOffset,
    next_id: i64,
}

impl World {
    /// The scenario at simulated time zero; `calendar` dates it (a plain `DateTime` is its
    /// calendar time, one simulated second a second).
    pub fn new(scenario: &Scenario, seed: u64, calendar: impl Into<Calendar>) -> World {
        let calendar = calendar.into();
        let tz = scenario.timezone;
        let instances = scenario
            .instances
            .iter()
            .map(|i| {
                let tasks = i
                    .tasks
                    .iter()
                    .map(|t| TaskSim::new(&i.id, t.clone(), seed, calendar, tz, 0.0))
                    .collect();
                (i.id.clone(), tasks)
            })
            .collect();
        let next_id = scenario
            .instances
            .iter()
            .flat_map(|i| &i.tasks)
            .map(|t| t.id)
            .max()
            .unwrap_or(440_000_000)
            .saturating_add(1);
        World {
            instances,
            seed,
            calendar,
            tz,
            next_id,
        }
    }

    /// Runs every task up to simulated time `to`.
    pub fn advance(&mut self, to: f64) {
        for (_, tasks) in &mut self.instances {
            for t in tasks {
                t.advance(to);
            }
        }
    }

    /// Instance ids in order.
    pub fn instance_ids(&self) -> Vec<String> {
        self.instances.iter().map(|(id, _)| id.clone()).collect()
    }

    fn tasks_mut(&mut self, instance: &str) -> Option<&mut Vec<TaskSim>> {
        self.instances
            .iter_mut()
            .find(|(id, _)| id == instance)
            .map(|(_, t)| t)
    }

    /// The tasks of `instance` as the API shows them at `now`; `None` for an unknown instance.
    pub fn views(&self, instance: &str, now: f64) -> Option<Vec<TaskView>> {
        self.instances
            .iter()
            .find(|(id, _)| id == instance)
            .map(|(_, tasks)| tasks.iter().map(|t| t.view(now)).collect())
    }

    /// The source of `instance`'s migration (its last task that is more than a precheck).
    pub fn source_reading(&self, instance: &str) -> Option<SourceReading> {
        let (_, tasks) = self.instances.iter().find(|(id, _)| id == instance)?;
        tasks
            .iter()
            .rev()
            .find(|t| !t.spec.precheck_only)
            .or(tasks.last())
            .map(|t| t.source_reading())
    }

    /// Starts the switchover of a task.
    pub fn activate(&mut self, instance: &str, task_id: i64) -> Result<(), SimError> {
        self.tasks_mut(instance)
            .ok_or_else(SimError::instance_not_found)?
            .iter_mut()
            .find(|t| t.id() == task_id)
            .ok_or_else(SimError::invalid_migrate_task)?
            .activate()
    }

    /// Adds a task that starts at precheck at simulated time `now`.
    pub fn create(&mut self, instance: &str, task: NewTask, now: f64) -> Result<i64, SimError> {
        let id = self.next_id;
        let mut rng = StdRng::seed_from_u64(self.seed ^ (id as u64));
        let start =
            Lsn((rng.random_range(1u64..0x40) << 32) | (rng.random_range(0u64..0x1000) << 20));
        let spec: TaskSpec = serde_json::from_value(serde_json::json!({
            "id": id,
            "name": task.task_name,
            "precheck_only": task.precheck_only,
            "source": {
                "ip": task.source.ip,
                "port": task.source.port,
                "account": task.source.account,
                "password": task.source.password.expose(),
                "category": task.source.category,
            },
            "lsn": start.to_string(),
        }))
        .map_err(|e| SimError::new("InternalError", e.to_string(), 500))?;
        let (calendar, tz, seed) = (self.calendar, self.tz, self.seed);
        let tasks = self
            .tasks_mut(instance)
            .ok_or_else(SimError::instance_not_found)?;
        if tasks.len() >= MAX_TASKS_PER_INSTANCE {
            return Err(SimError::new(
                "QuotaExceeded.MigrateTask",
                format!("An instance holds at most {MAX_TASKS_PER_INSTANCE} migration tasks."),
                400,
            ));
        }
        let mut sim = TaskSim::new(instance, spec, seed, calendar, tz, now);
        sim.advance(now);
        tasks.push(sim);
        self.next_id += 1;
        Ok(id)
    }
}

/// The scenario engine as a [`TaskSource`], driven by a [`Clock`].
pub struct ScenarioSource {
    world: Mutex<World>,
    clock: Arc<dyn Clock>,
    /// Each instance's `source_checklist` from the scenario.
    checklists: Vec<(String, Vec<Finding>)>,
}

impl ScenarioSource {
    /// Plays `scenario` with `seed` on `clock` (whose epoch dates simulated zero).
    pub fn new(scenario: &Scenario, seed: u64, clock: Arc<dyn Clock>) -> ScenarioSource {
        ScenarioSource {
            world: Mutex::new(World::new(scenario, seed, clock.calendar())),
            clock,
            checklists: scenario
                .instances
                .iter()
                .map(|i| (i.id.clone(), i.source_checklist.clone()))
                .collect(),
        }
    }

    /// The clock it runs on.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// Runs `f` on the world advanced to now.
    fn with_world<R>(&self, f: impl FnOnce(&mut World, f64) -> R) -> R {
        let mut w = self.world.lock().unwrap_or_else(|e| e.into_inner());
        let now = self.clock.now();
        w.advance(now);
        f(&mut w, now)
    }
}

impl ScenarioSource {
    /// The source of `instance`'s migration as of now; `None` for an unknown instance.
    pub fn source_reading(&self, instance: &str) -> Option<SourceReading> {
        self.with_world(|w, _| w.source_reading(instance))
    }

    /// What the scenario says the checklist of `instance`'s source finds (empty for an
    /// instance without a `source_checklist`, or unknown).
    pub fn checklist(&self, instance: &str) -> Vec<Finding> {
        self.checklists
            .iter()
            .find(|(id, _)| id == instance)
            .map(|(_, c)| c.clone())
            .unwrap_or_default()
    }
}

#[async_trait]
impl TaskSource for ScenarioSource {
    async fn instances(&self) -> Vec<String> {
        self.with_world(|w, _| w.instance_ids())
    }

    async fn tasks(&self, instance: &str) -> Option<Vec<TaskView>> {
        self.with_world(|w, now| w.views(instance, now))
    }

    async fn activate(&self, instance: &str, task_id: i64) -> Result<(), SimError> {
        self.with_world(|w, _| w.activate(instance, task_id))
    }

    async fn create_task(&self, instance: &str, task: NewTask) -> Result<i64, SimError> {
        self.with_world(|w, now| w.create(instance, task, now))
    }
}
