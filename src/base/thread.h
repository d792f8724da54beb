/*
 * thread.h -- internal: what a thread of the server says about itself.
 *
 * tn_thread_background() is called first thing by each thread that does
 * background work in `tenure serve` (the value model's refit, the
 * scheduler's jobs, the dashboard's two warming threads): it names the thread
 * and lowers its CPU priority to TN_BACKGROUND_NICE, so that on a busy
 * machine the HTTP threads and the writer (whose folds must keep up with
 * ingest) run first.  The threads such a thread starts (an analysis's
 * worker) inherit its priority: Linux keeps the nice value per thread and
 * copies it at thread creation.
 *
 * Why nice 10 and not SCHED_IDLE or nice 19: the kernel's fair scheduler
 * shares a busy core by weight, 1024 at nice 0, 110 at nice 10, 15 at nice
 * 19, 3 for SCHED_IDLE.  Against one busy request thread, nice 10 still gets
 * ~10 % of the core, so under a sustained ingest the value model is still
 * refitted (later); nice 19 (~1.4 %) and
 * SCHED_IDLE (~0.3 %) would starve them for as long as the load lasts.  On
 * an idle core the priority changes nothing: the background work runs at
 * full speed.  docs/api.md (Performance) has the measurements.
 */
#ifndef TENURE_THREAD_H
#define TENURE_THREAD_H

#define TN_BACKGROUND_NICE 10

/* Name the calling thread NAME (at most 15 characters are kept: top -H,
 * perf and /proc/PID/task/TID/comm show it) and set its nice value to
 * TN_BACKGROUND_NICE more than the process's main thread (at most 19).  A failure does not stop the caller: the work is the
 * same at the old priority; the first failure in the process is written on
 * stderr, naming the thread and the reason. */
void tn_thread_background(const char *name);

#endif
