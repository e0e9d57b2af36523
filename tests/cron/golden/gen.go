// Command gen writes cases.json: the fire times that robfig/cron v3 (the library the Go
// reference implementation of pylon uses) computes for a table of cron expressions, and which
// expressions its standard parser accepts. tests/cron/golden_test.ts compares src/cron with it.
//
// It is a tool, not part of the build: CI has no Go. Regenerate on a Debian machine with
//
//	apt-get install -y golang-go golang-github-robfig-cron-dev
//	cd tests/cron/golden
//	GO111MODULE=off GOPATH=/usr/share/gocode go run gen.go > cases.json
//	deno fmt cases.json
//
// Debian ships the v3 module source under the GOPATH import path github.com/robfig/cron.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/robfig/cron"
)

// robfigVersion is the Debian package the cases were generated with.
const robfigVersion = "github.com/robfig/cron/v3 v3.0.1 (Debian golang-github-robfig-cron-dev 3.0.1-1)"

type runCase struct {
	ID       string   `json:"id"`
	Expr     string   `json:"expr"`
	Robfig   string   `json:"robfigExpr,omitempty"` // equivalent spelling robfig accepts (it has no DOW 7)
	Timezone string   `json:"timezone"`
	From     string   `json:"from"`
	Count    int      `json:"-"`
	Next     []string `json:"next"`
}

type validityCase struct {
	Expr  string `json:"expr"`
	Ok    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

type output struct {
	Generator string         `json:"generator"`
	Robfig    string         `json:"robfig"`
	Go        string         `json:"go"`
	Runs      []runCase      `json:"runs"`
	Validity  []validityCase `json:"validity"`
}

func r(id, expr, zone, from string, count int) runCase {
	return runCase{ID: id, Expr: expr, Timezone: zone, From: from, Count: count}
}

// alias is a case whose expression robfig cannot parse as written (DOW 7).
func alias(id, expr, robfigExpr, zone, from string, count int) runCase {
	c := r(id, expr, zone, from, count)
	c.Robfig = robfigExpr
	return c
}

var runs = []runCase{
	// Basics in UTC.
	r("monday-9am", "0 9 * * 1", "UTC", "2026-03-04T12:00:00Z", 5),
	r("every-5-min-boundary", "*/5 * * * *", "UTC", "2026-01-01T00:00:00Z", 5),
	r("every-minute-mid-minute", "* * * * *", "UTC", "2026-01-01T00:00:30Z", 3),
	r("from-n-step", "5/15 * * * *", "UTC", "2026-01-01T00:00:00Z", 6),
	r("uneven-step", "*/7 * * * *", "UTC", "2026-01-01T00:50:00Z", 4),
	r("step-over-range", "*/100 * * * *", "UTC", "2026-01-01T00:00:00Z", 3),
	r("range-step-minutes", "1-10/3 0 * * *", "UTC", "2026-01-01T00:00:00Z", 6),
	r("every-6-hours", "0 */6 * * *", "UTC", "2026-01-01T01:00:00Z", 5),
	r("weekday-business-hours", "0 9-17/4 * * MON-FRI", "UTC", "2026-01-02T12:00:00Z", 6),
	r("quarterly", "0 0 1 */3 *", "UTC", "2026-01-15T00:00:00Z", 4),
	r("month-n-step", "0 0 1 2/3 *", "UTC", "2026-01-15T00:00:00Z", 4),
	r("month-end-31", "0 0 31 * *", "UTC", "2026-01-15T00:00:00Z", 7),
	r("feb-29", "0 0 29 2 *", "UTC", "2026-01-01T00:00:00Z", 3),
	r("year-end", "59 23 31 12 *", "UTC", "2026-06-01T00:00:00Z", 2),
	r("names-mixed-case", "0 6 * jan,JUL Sun", "UTC", "2026-01-01T00:00:00Z", 6),
	r("name-ranges", "15 10 * Mar-May mon-wed", "UTC", "2026-01-01T00:00:00Z", 5),
	r("question-mark-dom", "0 0 ? * MON", "UTC", "2026-01-01T00:00:00Z", 3),
	alias("dow-7-sunday", "0 0 * * 7", "0 0 * * 0", "UTC", "2026-01-01T00:00:00Z", 3),
	alias("dow-range-to-7", "0 12 * * 5-7", "0 12 * * 5-6,0", "UTC", "2026-01-01T00:00:00Z", 6),
	r("dow-n-step", "0 0 * * 1/2", "UTC", "2026-01-01T00:00:00Z", 6),

	// Day-of-month / day-of-week: OR when both are restricted (robfig: neither has the star bit).
	r("or-rule-classic", "30 4 1,15 * 5", "UTC", "2026-01-01T00:00:00Z", 8),
	r("or-rule-dom-step", "0 0 */2 * 1", "UTC", "2026-01-01T00:00:00Z", 8),
	r("or-rule-first-week", "0 0 1-7 * 1", "UTC", "2026-02-01T00:00:00Z", 9),
	r("or-rule-feb-29-or-monday", "0 0 29 2 1", "UTC", "2026-01-01T00:00:00Z", 6),
	r("and-rule-star-step-1", "0 0 */1 * 1", "UTC", "2026-01-01T00:00:00Z", 3),
	r("and-rule-star-in-list", "0 0 *,1 * 1", "UTC", "2026-01-01T00:00:00Z", 3),
	r("and-rule-dow-star", "0 0 13 * *", "UTC", "2026-01-01T00:00:00Z", 3),

	// Descriptors.
	r("yearly", "@yearly", "UTC", "2026-03-01T00:00:00Z", 2),
	r("annually", "@annually", "America/New_York", "2026-03-01T00:00:00Z", 2),
	r("monthly", "@monthly", "UTC", "2026-03-01T00:00:00Z", 3),
	r("weekly", "@weekly", "UTC", "2026-03-01T00:00:00Z", 3),
	r("daily", "@daily", "Asia/Kolkata", "2026-03-01T00:00:00Z", 3),
	r("midnight", "@midnight", "UTC", "2026-03-01T00:00:00Z", 2),
	r("hourly", "@hourly", "UTC", "2026-03-01T00:30:00Z", 3),
	r("cron-tz-prefix", "CRON_TZ=Asia/Tokyo 0 9 * * *", "UTC", "2026-03-01T00:30:00Z", 2),

	// Zones without DST, and ordinary offset changes.
	r("kolkata-9am", "0 9 * * *", "Asia/Kolkata", "2026-03-01T00:00:00Z", 3),
	r("kolkata-every-45", "*/45 * * * *", "Asia/Kolkata", "2026-03-01T00:00:00Z", 4),
	r("berlin-9am-across-dst", "0 9 * * *", "Europe/Berlin", "2026-03-27T12:00:00Z", 4),

	// America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT; 2026-11-01 02:00 EDT -> 01:00 EST.
	r("ny-spring-gap-0230", "30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z", 3),
	r("ny-spring-gap-0200", "0 2 * * *", "America/New_York", "2026-03-07T12:00:00Z", 2),
	r("ny-spring-gap-two-times", "15,45 2 * * *", "America/New_York", "2026-03-07T12:00:00Z", 3),
	r("ny-spring-before-gap", "59 1 * * *", "America/New_York", "2026-03-07T12:00:00Z", 2),
	r("ny-spring-after-gap", "0 3 * * *", "America/New_York", "2026-03-07T12:00:00Z", 2),
	r("ny-spring-every-30", "*/30 * * * *", "America/New_York", "2026-03-08T06:00:00Z", 4),
	r("ny-spring-hourly-at-30", "30 * * * *", "America/New_York", "2026-03-08T05:00:00Z", 4),
	r("ny-spring-hour-step", "0 */2 * * *", "America/New_York", "2026-03-08T04:00:00Z", 3),
	r("ny-fall-0130", "30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", 3),
	r("ny-fall-0130-between", "30 1 * * *", "America/New_York", "2026-11-01T05:45:00Z", 2),
	r("ny-fall-0100", "0 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", 2),
	r("ny-fall-every-30", "*/30 * * * *", "America/New_York", "2026-11-01T04:00:00Z", 6),
	r("ny-fall-hourly-at-30", "30 * * * *", "America/New_York", "2026-11-01T04:00:00Z", 4),
	r("ny-fall-0200", "0 2 * * *", "America/New_York", "2026-10-31T12:00:00Z", 2),

	// Europe/London: 2026-03-29 01:00 GMT -> 02:00 BST; 2026-10-25 02:00 BST -> 01:00 GMT.
	r("london-spring-gap", "30 1 * * *", "Europe/London", "2026-03-28T12:00:00Z", 2),
	r("london-fall-repeat", "30 1 * * *", "Europe/London", "2026-10-24T12:00:00Z", 2),
	r("london-fall-hourly", "0 * * * *", "Europe/London", "2026-10-24T23:30:00Z", 4),

	// Europe/Berlin: 2026-03-29 02:00 CET -> 03:00 CEST; 2026-10-25 03:00 CEST -> 02:00 CET.
	r("berlin-spring-gap", "30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", 2),
	r("berlin-fall-repeat", "30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", 2),
	r("berlin-fall-every-20", "*/20 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", 4),

	// Australia/Lord_Howe (30-minute DST): 2026-04-05 02:00 -> 01:30; 2026-10-04 02:00 -> 02:30.
	r("lord-howe-fall-repeat", "45 1 * * *", "Australia/Lord_Howe", "2026-04-04T00:00:00Z", 2),
	r("lord-howe-fall-every-15", "*/15 * * * *", "Australia/Lord_Howe", "2026-04-04T14:00:00Z", 6),
	r("lord-howe-spring-gap", "15 2 * * *", "Australia/Lord_Howe", "2026-10-03T00:00:00Z", 2),
	r("lord-howe-spring-every-15", "*/15 * * * *", "Australia/Lord_Howe", "2026-10-03T15:00:00Z", 4),

	// America/Sao_Paulo 2018: midnight did not exist on 11-04; 2019-02-16 23:00-23:59 happened twice.
	r("sao-paulo-midnight-gap", "0 0 * * *", "America/Sao_Paulo", "2018-11-03T00:00:00Z", 3),
	r("sao-paulo-late-repeat", "30 23 * * *", "America/Sao_Paulo", "2019-02-15T12:00:00Z", 3),
}

var validity = []string{
	"0 9 * * 1",
	"  0 9  * * 1  ",
	"* * * * mon-fri",
	"* * * jan-DEC *",
	"*/100 * * * *",
	"@daily",
	"@every 1h",
	"@reboot",
	"TZ=Europe/Berlin 0 9 * * *",
	"CRON_TZ=Nowhere/Land 0 9 * * *",
	"",
	"0 25 * * *",
	"60 * * * *",
	"* * 0 * *",
	"* * 32 * *",
	"* * * 0 *",
	"* * * 13 *",
	"* * * * 7",
	"* * * * 8",
	"5-3 * * * *",
	"*/0 * * * *",
	"1/2/3 * * * *",
	"1-2-3 * * * *",
	"a * * * *",
	"* * * JANUARY *",
	"* * * * MONDAY",
	"0 0 9 * * *",
	"0 9 * *",
	"? * * * *",
	"0 0 ? * ?",
	"1,,2 * * * *",
	"-1 * * * *",
	"+5 * * * *",
	"*-5 * * * *",
	"0 0 30 2 *",
	"0 0 L * *",
	"0 0 * * 5#3",
}

func main() {
	out := output{
		Generator: "tests/cron/golden/gen.go",
		Robfig:    robfigVersion,
		Go:        runtime.Version(),
		Validity:  []validityCase{},
	}
	for _, c := range runs {
		expr := c.Expr
		if c.Robfig != "" {
			expr = c.Robfig
		}
		sched, err := cron.ParseStandard(expr)
		if err != nil {
			fail("%s: %v", c.ID, err)
		}
		loc, err := time.LoadLocation(c.Timezone)
		if err != nil {
			fail("%s: %v", c.ID, err)
		}
		t, err := time.Parse(time.RFC3339, c.From)
		if err != nil {
			fail("%s: %v", c.ID, err)
		}
		t = t.In(loc)
		c.Next = []string{}
		for i := 0; i < c.Count; i++ {
			t = sched.Next(t)
			if t.IsZero() {
				break
			}
			c.Next = append(c.Next, t.UTC().Format(time.RFC3339))
		}
		out.Runs = append(out.Runs, c)
	}
	for _, expr := range validity {
		v := validityCase{Expr: expr, Ok: true}
		if _, err := cron.ParseStandard(expr); err != nil {
			v.Ok = false
			v.Error = err.Error()
		}
		out.Validity = append(out.Validity, v)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		fail("%v", err)
	}
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}
