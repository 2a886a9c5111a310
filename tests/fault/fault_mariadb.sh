#!/usr/bin/env bash
# fault_mariadb.sh — MariaDB killed and restarted under load (the MySQL
# store).  SKIPPED for now: needs the async store (queue issue).  Today the
# MySQL store's calls block jobd's loop, so a dead server stalls jobd
# instead of failing over; the scenario (kill -9 of mariadbd while runs
# go through, restart, assert nothing acknowledged lost and nothing ran
# twice, as fault_kill9.sh does for jobd) is written once store calls run on
# the thread pool.
. "$(dirname "$0")/lib.sh"
skip "mariadb" "needs the async store (queue issue)"
fault_finish
