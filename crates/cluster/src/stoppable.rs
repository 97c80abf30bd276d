//! A background loop that shutdown can stop and wait for: its stop signal and its task together.

use std::sync::Mutex;

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub(crate) struct StoppableTask {
    stop: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl StoppableTask {
    /// A task slot, and the receiver the loop watches (it turns `true` when stopped).
    pub(crate) fn new() -> (StoppableTask, watch::Receiver<bool>) {
        let (stop, stop_rx) = watch::channel(false);
        let slot = StoppableTask {
            stop,
            task: Mutex::new(None),
        };
        (slot, stop_rx)
    }

    /// Records the spawned loop.
    pub(crate) fn set(&self, task: JoinHandle<()>) {
        *self.task.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
    }

    /// Tells the loop to stop and waits until it has ended; later calls return at once.
    pub(crate) async fn stop(&self) {
        let _ = self.stop.send(true);
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}
