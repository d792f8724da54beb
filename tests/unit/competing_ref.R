# competing_ref.R OUTDIR -- reference numbers from R's survival package for
# test_competing.c: competing risks on R's own mgus2 data (Kyle et al. 2002,
# shipped with r-cran-survival, LGPL-2; the competing-risks example of
# Therneau's "Multi-state models and competing risks" vignette):
#   etime = ptime when a plasma-cell malignancy (pcm) came first, else futime;
#   status 0 censored, 1 pcm, 2 death (before pcm).
# Writes mgus.csv (time, status, sex, age, hgb) and mgus_ref.csv (key,value):
#   survfit(Surv(time, factor(status, 0:2)) ~ 1) and ~ sex: pstate, std.err,
#   lower, upper (conf.type "log", the default) at every time and at summary
#   times; coxph(Surv(time, status == k) ~ age + sex + hgb) for k = 1, 2
#   (efron): coef, se, loglik, concordance.
suppressMessages(library(survival))
out <- commandArgs(trailingOnly = TRUE)[1]
m <- mgus2
d <- data.frame(time = ifelse(m$pstat == 0, m$futime, m$ptime),
                status = ifelse(m$pstat == 0, 2 * m$death, 1),
                sex = as.character(m$sex), age = m$age, hgb = m$hgb)
d <- d[!is.na(d$hgb), ]
write.csv(d, file.path(out, "mgus.csv"), row.names = FALSE)
keys <- character(0); vals <- character(0)
g17 <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))
put <- function(k, v) { keys <<- c(keys, k); vals <<- c(vals, g17(v)) }
d$fstatus <- factor(d$status, 0:2, labels = c("censor", "pcm", "death"))
aj <- function(fit, g) {
  put(paste0("aj_", g, "_ntimes"), length(fit$time))
  for (i in seq_along(fit$time)) for (s in 1:3) {
    p <- paste0("aj_", g, "_", i - 1, "_", s - 1, "_")
    if (s == 1) { put(paste0("aj_", g, "_", i - 1, "_time"), fit$time[i]);
                  put(paste0("aj_", g, "_", i - 1, "_nrisk"), fit$n.risk[i, 1]) }
    put(paste0(p, "p"), fit$pstate[i, s]); put(paste0(p, "se"), fit$std.err[i, s])
    put(paste0(p, "lo"), fit$lower[i, s]); put(paste0(p, "up"), fit$upper[i, s])
  }
  ats <- c(12, 60, 120, 240, 360)
  sm <- summary(fit, times = ats)
  for (a in seq_along(ats)) for (s in 1:3) {
    p <- paste0("at_", g, "_", a - 1, "_", s - 1, "_")
    put(paste0(p, "p"), sm$pstate[a, s]); put(paste0(p, "se"), sm$std.err[a, s])
  }
}
aj(survfit(Surv(time, fstatus) ~ 1, data = d), "all")
aj(survfit(Surv(time, fstatus) ~ 1, data = d[d$sex == "F", ]), "F")
aj(survfit(Surv(time, fstatus) ~ 1, data = d[d$sex == "M", ]), "M")
for (k in 1:2) {
  fit <- coxph(Surv(time, status == k) ~ age + sex + hgb, data = d)
  p <- paste0("cox_", k, "_")
  for (j in seq_along(coef(fit))) {
    put(paste0(p, "coef_", j - 1), coef(fit)[j]); put(paste0(p, "se_", j - 1), sqrt(vcov(fit)[j, j]))
  }
  put(paste0(p, "loglik"), fit$loglik[2]); put(paste0(p, "conc"), fit$concordance["concordance"])
  put(paste0(p, "events"), fit$nevent)
}
write.csv(data.frame(key = keys, value = vals), file.path(out, "mgus_ref.csv"), row.names = FALSE, quote = FALSE)
