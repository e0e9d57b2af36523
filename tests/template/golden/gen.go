// Command gen runs every template case through Go's real text/template and records what Go
// prints (or the error it returns), so the TypeScript port can be tested without Go.
//
// Regenerate (needs Go 1.24+ for range-over-int and {{else with}}):
//
//	deno run tests/template/golden/inputs.ts | go run tests/template/golden/gen.go > tests/template/golden/cases.json
//
// Data is decoded with encoding/json into `any`, exactly as a Go daemon would decode a
// webhook body, then executed with Template.Execute.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"text/template"
)

// input is one case as written in inputs.ts.
type input struct {
	Name         string          `json:"name"`
	Template     string          `json:"template"`
	Data         string          `json:"data,omitempty"`
	TemplateName string          `json:"templateName,omitempty"`
	Deviation    string          `json:"deviation,omitempty"`
	Ours         json.RawMessage `json:"ours,omitempty"`
}

// result is one case plus Go's verdict.
type result struct {
	input
	Output    *string `json:"output,omitempty"`
	Error     string  `json:"error,omitempty"`
	ErrorKind string  `json:"errorKind,omitempty"`
}

type file struct {
	Generator string   `json:"generator"`
	GoVersion string   `json:"goVersion"`
	Cases     []result `json:"cases"`
}

func run(c input) (r result) {
	r = result{input: c}
	defer func() {
		// Go's text/template can itself panic (`{{.x | call}}` did before Go 1.24).
		if p := recover(); p != nil {
			r.Output, r.Error, r.ErrorKind = nil, fmt.Sprint("panic: ", p), "panic"
		}
	}()
	name := c.TemplateName
	if name == "" {
		name = "agent.prompt"
	}
	var data any
	if c.Data != "" {
		if err := json.Unmarshal([]byte(c.Data), &data); err != nil {
			panic(fmt.Sprintf("case %q: bad data: %v", c.Name, err))
		}
	}
	tmpl, err := template.New(name).Parse(c.Template)
	if err != nil {
		r.Error, r.ErrorKind = err.Error(), "parse"
		return r
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		r.Error, r.ErrorKind = err.Error(), "exec"
		return r
	}
	out := buf.String()
	r.Output = &out
	return r
}

func main() {
	var inputs []input
	if err := json.NewDecoder(os.Stdin).Decode(&inputs); err != nil {
		panic(err)
	}
	f := file{Generator: "tests/template/golden/gen.go", GoVersion: runtime.Version()}
	seen := map[string]bool{}
	for _, c := range inputs {
		if seen[c.Name] {
			panic("duplicate case name: " + c.Name)
		}
		seen[c.Name] = true
		f.Cases = append(f.Cases, run(c))
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		panic(err)
	}
}
