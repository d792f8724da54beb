# survival_ref.R OUTDIR ROSSI_CSV -- reference numbers from R's survival
# package for test_survival_r.c.  Writes, for each data set D, D.csv (time,
# event, group, covariates) and D_ref.csv (key,value) with Kaplan-Meier
# (survfit conf.type = "log-log", summary.survfit, quantile.survfit), the
# log-rank test (survdiff) and Cox fits (coxph efron/breslow, with strata).
suppressMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
out <- args[1]
rossi <- read.csv(args[2])
sets <- list()
sets$rossi <- list(d = data.frame(time = rossi$week, event = rossi$arrest, group = rossi$fin,
                                  age = rossi$age, race = rossi$race, wexp = rossi$wexp,
                                  mar = rossi$mar, paro = rossi$paro, prio = rossi$prio),
                   covs = c("age", "race", "wexp", "mar", "paro", "prio"))
l <- na.omit(lung[, c("time", "status", "sex", "age", "ph.ecog")])
sets$lung <- list(d = data.frame(time = l$time, event = l$status - 1, group = l$sex, age = l$age,
                                 ph_ecog = l$ph.ecog), covs = c("age", "ph_ecog"))
v <- veteran
sets$veteran <- list(d = data.frame(time = v$time, event = v$status, group = v$trt, karno = v$karno,
                                    age = v$age, prior = v$prior, celltype = as.character(v$celltype)),
                     covs = c("karno", "age", "prior", "celltype"))
set.seed(42)
n <- 600
ties <- data.frame(time = sample(1:15, n, replace = TRUE), event = rbinom(n, 1, 0.7),
                   group = sample(0:2, n, replace = TRUE), x1 = round(rnorm(n), 2),
                   x2 = rbinom(n, 1, 0.4))
ties$time[ties$x2 == 1] <- pmin(ties$time[ties$x2 == 1] + 3, 15)
sets$ties <- list(d = ties, covs = c("x1", "x2"))

g17 <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))
for (name in names(sets)) {
  d <- sets[[name]]$d
  covs <- sets[[name]]$covs
  write.csv(d, file.path(out, paste0(name, ".csv")), row.names = FALSE)
  keys <- character(0); vals <- character(0)
  put <- function(k, v) { keys <<- c(keys, k); vals <<- c(vals, g17(v)) }
  km <- function(fit, g) {
    s <- summary(fit)
    put(paste0("km_", g, "_count"), length(s$time))
    for (i in seq_along(s$time)) {
      p <- paste0("km_", g, "_", i - 1, "_")
      put(paste0(p, "time"), s$time[i]); put(paste0(p, "surv"), s$surv[i])
      put(paste0(p, "se"), s$std.err[i]); put(paste0(p, "lower"), s$lower[i])
      put(paste0(p, "upper"), s$upper[i]); put(paste0(p, "cumhaz"), s$cumhaz[i])
      put(paste0(p, "chaz_se"), s$std.chaz[i])
    }
    ats <- c(min(fit$time) / 2, quantile(fit$time, 0.3, names = FALSE),
             quantile(fit$time, 0.7, names = FALSE) + 0.5, max(fit$time))
    sa <- summary(fit, times = ats)
    for (i in seq_along(ats)) {
      p <- paste0("at_", g, "_", i - 1, "_")
      put(paste0(p, "time"), ats[i]); put(paste0(p, "n_risk"), sa$n.risk[i])
      put(paste0(p, "surv"), sa$surv[i]); put(paste0(p, "se"), sa$std.err[i])
      put(paste0(p, "lower"), sa$lower[i]); put(paste0(p, "upper"), sa$upper[i])
    }
    q <- quantile(fit, 0.5)
    put(paste0("med_", g, "_q"), q$quantile[1]); put(paste0("med_", g, "_lower"), q$lower[1])
    put(paste0("med_", g, "_upper"), q$upper[1])
  }
  km(survfit(Surv(time, event) ~ 1, data = d, conf.type = "log-log"), "all")
  levels <- sort(unique(d$group))
  for (k in seq_along(levels))
    km(survfit(Surv(time, event) ~ 1, data = d[d$group == levels[k], ], conf.type = "log-log"), k - 1)
  sd <- survdiff(Surv(time, event) ~ group, data = d)
  put("lr_chisq", sd$chisq); put("lr_p", pchisq(sd$chisq, length(sd$n) - 1, lower.tail = FALSE))
  for (ties_m in c("efron", "breslow")) for (st in c(0, 1)) {
    fml <- paste("Surv(time, event) ~", paste(covs, collapse = " + "), if (st) "+ strata(group)" else "")
    fit <- coxph(as.formula(fml), data = d, ties = ties_m)
    p <- paste0("cox_", ties_m, "_", st, "_")
    put(paste0(p, "p"), length(coef(fit)))
    for (j in seq_along(coef(fit))) {
      put(paste0(p, "coef_", j - 1), coef(fit)[j]); put(paste0(p, "se_", j - 1), sqrt(vcov(fit)[j, j]))
    }
    put(paste0(p, "loglik0"), fit$loglik[1]); put(paste0(p, "loglik"), fit$loglik[2])
    put(paste0(p, "conc"), fit$concordance["concordance"])
  }
  write.csv(data.frame(key = keys, value = vals), file.path(out, paste0(name, "_ref.csv")),
            row.names = FALSE, quote = FALSE)
}
