/*
 * tenure.h -- libtenure, the customer-retention engine behind the `tenure` CLI.
 *
 * The story, in the order data flows:
 *
 *   1. tenure/store.h    the embedded store (SQLite file): customers,
 *                        subscriptions, events, payments, feedback; a
 *                        versioned schema that upgrades older files.
 *   2. tenure/import.h   validated, all-or-nothing import of CSV and JSON
 *                        Lines (csv.h is the streaming reader, time.h parses
 *                        instants), with FILE:LINE:COLUMN errors.
 *   3. tenure/demo.h     a deterministic synthetic subscription business with
 *                        documented, planted effects (docs/demo.md).
 *   4. analyses          churn definitions and rates, survival and drivers,
 *                        customer value, feedback, risk and actions -- each in
 *                        its own header, each taking plain arrays or a frame
 *                        (frame.h: a flat CSV file as typed columns).
 *
 * Conventions: every fallible function returns TN_OK or an error code and
 * fills a caller-provided tn_error (error.h).  Whatever a function returns
 * with _new/_open/_read is freed by the matching _free/_close.  The library
 * never prints to stdout and never exits.
 */
#ifndef TENURE_H
#define TENURE_H

#include "tenure/error.h"
#include "tenure/warn.h"
#include "tenure/json.h"
#include "tenure/time.h"
#include "tenure/csv.h"
#include "tenure/frame.h"
#include "tenure/store.h"
#include "tenure/cluster.h"
#include "tenure/import.h"
#include "tenure/demo.h"
#include "tenure/churn.h"
#include "tenure/svg.h"
#include "tenure/report.h"
#include "tenure/summary.h"
#include "tenure/utf8.h"
#include "tenure/sources.h"
#include "tenure/survival.h"
#include "tenure/value.h"
#include "tenure/feedback.h"
#include "tenure/actions.h"
#include "tenure/decide.h"
#include "tenure/predict.h"

/* The library's version, "MAJOR.MINOR.PATCH". */
TN_API const char *tn_version(void);

#endif
