//! The tasks an experiment can name: a registry of constructors by name.
//!
//! Every command of [`crate::cli`] finds its task here. [`TaskRegistry::builtin`] holds the
//! suite of `pilqr-tasks`; a user's binary adds its own tasks with [`TaskRegistry::register`]
//! (or [`TaskRegistry::register_renderable`] for a task that can be drawn) and passes the
//! registry to [`crate::cli::main_with`]:
//!
//! ```
//! use pilqr_experiment::TaskRegistry;
//! let mut registry = TaskRegistry::builtin();
//! let err = registry
//!     .register("point-mass", "a second point mass", || {
//!         Ok(pilqr_tasks::task_by_name("point-mass")?)
//!     })
//!     .unwrap_err();
//! assert!(err.to_string().contains("already registered"));
//! assert!(registry.task("point-mass").is_ok());
//! ```

use std::sync::Arc;

use pilqr_core::Task;
use pilqr_tasks::render::RenderTask;
use thiserror::Error;

/// The error a task constructor may return (any error; its message is shown to the user).
pub type TaskBuildError = Box<dyn std::error::Error + Send + Sync>;

type TaskCtor = dyn Fn() -> Result<Box<dyn Task>, TaskBuildError> + Send + Sync;
type RenderCtor = dyn Fn() -> Result<Box<dyn RenderTask>, TaskBuildError> + Send + Sync;

/// An error of the registry.
#[derive(Debug, Error)]
pub enum RegistryError {
    /// `register` was given a name that is already taken.
    #[error("task {name:?} is already registered")]
    Duplicate {
        /// The name.
        name: String,
    },
    /// `register` was given a name an experiment file cannot name.
    #[error("task name {name:?} is not allowed: {reason}")]
    BadName {
        /// The name.
        name: String,
        /// Why not.
        reason: &'static str,
    },
    /// No task of that name.
    #[error("unknown task {name:?}; known tasks: {known}")]
    Unknown {
        /// The name asked for.
        name: String,
        /// The registered names, comma-separated.
        known: String,
    },
    /// The task's constructor failed.
    #[error("task {name:?} cannot be built: {source}")]
    Build {
        /// The name.
        name: String,
        /// The constructor's error.
        source: TaskBuildError,
    },
    /// The task was registered without a way to draw it.
    #[error(
        "task {name:?} cannot be rendered: it was registered with `TaskRegistry::register`, \
         which gives no scene; register it with `register_renderable` (a type implementing \
         `pilqr_tasks::render::RenderTask`) to render it"
    )]
    NotRenderable {
        /// The name.
        name: String,
    },
}

/// How a registered task is built.
#[derive(Clone)]
enum Ctor {
    /// A task without a renderer.
    Plain(Arc<TaskCtor>),
    /// A task that can also be drawn.
    Renderable(Arc<RenderCtor>),
}

/// One registered task.
#[derive(Clone)]
struct Entry {
    name: String,
    description: String,
    ctor: Ctor,
}

/// Task constructors by name, with a one-line description each (shown by `pilqr list`).
/// Cloning is cheap (the constructors are shared).
#[derive(Clone, Default)]
pub struct TaskRegistry {
    entries: Vec<Entry>,
}

impl std::fmt::Debug for TaskRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|e| &e.name))
            .finish()
    }
}

/// The one-line description of a built-in task.
fn builtin_description(name: &str) -> &'static str {
    match name {
        "point-mass" => "2-D point mass driven to a target (closed-form dynamics, no physics)",
        "reacher" => "2-link planar arm reaching targets (rapier3d)",
        "gripper-pusher" => "gripper pushing a block to a goal (rapier3d)",
        "gripper-pusher-table" => "gripper pushing a block on a table with friction (rapier3d)",
        "door-opening" => "arm opening a hinged door (rapier3d)",
        "hockey" => "arm striking a puck into a goal (rapier3d)",
        "power-plug" => "arm inserting a plug into a socket (rapier3d)",
        _ => "built-in task",
    }
}

impl TaskRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// The tasks of `pilqr-tasks` (`pilqr_tasks::TASK_NAMES`), all renderable.
    pub fn builtin() -> Self {
        let mut registry = Self::new();
        for &name in pilqr_tasks::TASK_NAMES {
            let entry = Entry {
                name: name.to_string(),
                description: builtin_description(name).to_string(),
                ctor: Ctor::Renderable(Arc::new(move || {
                    Ok(pilqr_tasks::render_task_by_name(name)?)
                })),
            };
            registry.entries.push(entry);
        }
        registry
    }

    fn insert(&mut self, name: &str, description: &str, ctor: Ctor) -> Result<(), RegistryError> {
        let bad = |reason| RegistryError::BadName {
            name: name.to_string(),
            reason,
        };
        if name.is_empty() {
            return Err(bad("it is empty"));
        }
        if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("it holds white space"));
        }
        if self.contains(name) {
            return Err(RegistryError::Duplicate {
                name: name.to_string(),
            });
        }
        self.entries.push(Entry {
            name: name.to_string(),
            description: description.to_string(),
            ctor,
        });
        Ok(())
    }

    /// Register a task called `name` (what an experiment's `task = "…"` names), described by
    /// `description` in `pilqr list`, built by `ctor`. Such a task trains, compares, resumes
    /// and evaluates but cannot be rendered (see [`TaskRegistry::register_renderable`]).
    /// A name already registered is an error.
    pub fn register<F>(
        &mut self,
        name: &str,
        description: &str,
        ctor: F,
    ) -> Result<(), RegistryError>
    where
        F: Fn() -> Result<Box<dyn Task>, TaskBuildError> + Send + Sync + 'static,
    {
        self.insert(name, description, Ctor::Plain(Arc::new(ctor)))
    }

    /// Register a task that can also be drawn by `pilqr render` (its type implements
    /// [`RenderTask`]: a scene of shapes for a state, and a camera). Otherwise as
    /// [`TaskRegistry::register`].
    pub fn register_renderable<F>(
        &mut self,
        name: &str,
        description: &str,
        ctor: F,
    ) -> Result<(), RegistryError>
    where
        F: Fn() -> Result<Box<dyn RenderTask>, TaskBuildError> + Send + Sync + 'static,
    {
        self.insert(name, description, Ctor::Renderable(Arc::new(ctor)))
    }

    /// Whether a task called `name` is registered.
    pub fn contains(&self, name: &str) -> bool {
        self.entries.iter().any(|e| e.name == name)
    }

    /// The registered names, in registration order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.name.as_str())
    }

    /// The description of the task called `name`.
    pub fn description(&self, name: &str) -> Option<&str> {
        self.entry(name).ok().map(|e| e.description.as_str())
    }

    fn entry(&self, name: &str) -> Result<&Entry, RegistryError> {
        self.entries
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| RegistryError::Unknown {
                name: name.to_string(),
                known: self.names().collect::<Vec<_>>().join(", "),
            })
    }

    /// A new instance of the task called `name`.
    pub fn task(&self, name: &str) -> Result<Box<dyn Task>, RegistryError> {
        let entry = self.entry(name)?;
        let built = match &entry.ctor {
            Ctor::Plain(f) => f(),
            Ctor::Renderable(f) => f().map(|t| t as Box<dyn Task>),
        };
        built.map_err(|source| RegistryError::Build {
            name: name.to_string(),
            source,
        })
    }

    /// Whether the task called `name` can be rendered (`None` when it is not registered).
    pub fn is_renderable(&self, name: &str) -> Option<bool> {
        self.entry(name)
            .ok()
            .map(|e| matches!(e.ctor, Ctor::Renderable(_)))
    }

    /// A new instance of the task called `name` with its rendering interface; an error when it
    /// was registered without one.
    pub fn render_task(&self, name: &str) -> Result<Box<dyn RenderTask>, RegistryError> {
        let entry = self.entry(name)?;
        match &entry.ctor {
            Ctor::Plain(_) => Err(RegistryError::NotRenderable {
                name: name.to_string(),
            }),
            Ctor::Renderable(f) => f().map_err(|source| RegistryError::Build {
                name: name.to_string(),
                source,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point_mass() -> Result<Box<dyn Task>, TaskBuildError> {
        Ok(pilqr_tasks::task_by_name("point-mass")?)
    }

    #[test]
    fn builtin_holds_the_suite_in_order() {
        let registry = TaskRegistry::builtin();
        let names: Vec<&str> = registry.names().collect();
        assert_eq!(names, pilqr_tasks::TASK_NAMES);
        for name in pilqr_tasks::TASK_NAMES {
            assert_eq!(registry.is_renderable(name), Some(true));
            assert_ne!(registry.description(name), Some("built-in task"), "{name}");
        }
        assert_eq!(registry.task("point-mass").unwrap().dims().dx, 4);
    }

    #[test]
    fn duplicate_and_bad_names_are_refused() {
        let mut registry = TaskRegistry::builtin();
        let err = registry
            .register("point-mass", "again", point_mass)
            .unwrap_err();
        assert!(
            matches!(&err, RegistryError::Duplicate { name } if name == "point-mass"),
            "{err}"
        );
        registry.register("mine", "my task", point_mass).unwrap();
        assert!(matches!(
            registry.register("mine", "again", point_mass),
            Err(RegistryError::Duplicate { .. })
        ));
        assert!(matches!(
            registry.register("", "empty", point_mass),
            Err(RegistryError::BadName { .. })
        ));
        assert!(matches!(
            registry.register("my task", "space", point_mass),
            Err(RegistryError::BadName { .. })
        ));
        assert_eq!(registry.names().filter(|n| *n == "mine").count(), 1);
    }

    #[test]
    fn unknown_and_unrenderable_tasks_are_errors_that_say_so() {
        let mut registry = TaskRegistry::new();
        registry.register("mine", "my task", point_mass).unwrap();
        let err = registry.task("juggler").err().unwrap();
        assert_eq!(
            err.to_string(),
            "unknown task \"juggler\"; known tasks: mine"
        );
        assert_eq!(registry.is_renderable("mine"), Some(false));
        let err = registry.render_task("mine").err().unwrap();
        assert!(matches!(err, RegistryError::NotRenderable { .. }));
        assert!(err.to_string().contains("register_renderable"), "{err}");
        registry
            .register("broken", "fails", || Err("no robot attached".into()))
            .unwrap();
        let err = registry.task("broken").err().unwrap();
        assert_eq!(
            err.to_string(),
            "task \"broken\" cannot be built: no robot attached"
        );
    }
}
