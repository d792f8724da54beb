/*
 * scheduler.h -- the scheduler thread of `tenure serve --scheduler`: every
 * INTERVAL seconds it runs the jobs due up to the end of yesterday (UTC) and
 * delivers the outbox (cmd_outbox.c; the same work as `tenure jobs run
 * --deliver` from cron).
 */
#ifndef TENURE_CLI_SCHEDULER_H
#define TENURE_CLI_SCHEDULER_H

typedef struct scheduler scheduler;
/* Start the thread on its own store connection; NULL when it cannot start. */
scheduler *scheduler_start(const char *db_path, double interval);
/* Stop it between two steps and wait for it. */
void scheduler_stop(scheduler *sc);

#endif
