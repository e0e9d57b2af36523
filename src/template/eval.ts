/**
 * Expression evaluation for the executor, a port of the `eval*` half of Go's
 * `text/template/exec.go` (Go 1.24): pipelines, commands, field chains, function calls and
 * argument conversion, with Go's error wording.
 *
 * Go distinguishes a value read out of a map or array (an `interface {}`) from the concrete
 * value a pipeline produces; only error messages (and `slice`) see the difference ("can't
 * evaluate field x in type interface {}"), so the evaluator tracks it as a flag on dot and on
 * variables.
 *
 * @module
 */

import { TemplateError } from "../errors.ts";
import {
  budgetFor,
  describeCap,
  MIN_VALUE_CAP,
  type RenderBudget,
  TemplateBudgetError,
} from "./budget.ts";
import { goQuote } from "./escape.ts";
import { sprintf } from "./format.ts";
import type { FuncSpec, ParamKind } from "./funcs.ts";
import { location } from "./location.ts";
import {
  type ArgNode,
  type ChainNode,
  type CommandNode,
  type FieldNode,
  type IdentifierNode,
  type Node,
  nodeString,
  type NumberNode,
  type PipeNode,
  type Tree,
  type VariableNode,
} from "./nodes.ts";
import { GoComplex, isMap, isTrue, typeName, type Value } from "./value.ts";

const MISSING: unique symbol = Symbol("missing");
type Final = Value | typeof MISSING;

/** A template variable; `iface` is true when the value was read out of a map or array. */
export interface Variable {
  name: string;
  value: Value;
  iface: boolean;
}

/** Evaluation state shared with the walker: the current node (for errors), scope and dot. */
export class Evaluator {
  /** The template being executed; its name appears in errors. */
  tree: Tree;
  /** The node errors point at (Go's `state.at`). */
  node: Node | null = null;
  /** The variable stack; a template call swaps in a fresh one. */
  vars: Variable[];
  /** Whether dot was read out of a map or array (inside `range`). */
  dotIface = false;
  #text: string;
  #parseName: string;
  #funcs: ReadonlyMap<string, FuncSpec>;
  #budget: RenderBudget;
  #valueCap: number;
  #steps = 0;

  constructor(
    text: string,
    parseName: string,
    funcs: ReadonlyMap<string, FuncSpec>,
    tree: Tree,
    dot: Value,
    budget: RenderBudget = budgetFor(parseName),
  ) {
    this.#text = text;
    this.#parseName = parseName;
    this.#funcs = funcs;
    this.#budget = budget;
    this.#valueCap = Math.max(budget.output, MIN_VALUE_CAP);
    this.tree = tree;
    this.vars = [{ name: "$", value: dot, iface: false }];
  }

  /** Throws Go's execution error: `template: NAME:LINE:COL: executing "T" at <node>: msg`. */
  errorf(message: string): never {
    const name = this.tree.name;
    const node = this.node;
    if (node === null) {
      throw new TemplateError(`template: ${name}: ${message}`, {
        templateName: this.#parseName,
        line: 0,
        column: 0,
      });
    }
    const loc = location(this.#text, node.pos);
    const where = `${this.#parseName}:${loc.line}:${loc.byteColumn}`;
    throw new TemplateError(
      `template: ${where}: executing ${goQuote(name)} at <${nodeString(node)}>: ${message}`,
      { templateName: this.#parseName, line: loc.line, column: loc.column },
    );
  }

  #push(name: string, value: Value): void {
    this.vars.push({ name, value, iface: false });
  }

  #findVar(name: string): Variable {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) return this.vars[i]!;
    }
    return this.errorf(`undefined variable: ${name}`);
  }

  /** Assigns the innermost variable called `name`. */
  setVar(name: string, value: Value, iface = false): void {
    const v = this.#findVar(name);
    v.value = value;
    v.iface = iface;
  }

  /** Sets the n-th variable from the top of the stack (range variables). */
  setTopVar(n: number, value: Value, iface: boolean): void {
    const v = this.vars[this.vars.length - n]!;
    v.value = value;
    v.iface = iface;
  }

  /** Go's `evalPipeline`: runs the commands, then declares or assigns the variables. */
  evalPipeline(dot: Value, pipe: PipeNode | null): Value {
    if (pipe === null) return undefined;
    this.node = pipe;
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) {
      value = this.#evalCommand(dot, cmd, value);
      if (value === null) value = undefined;
    }
    const result = value === MISSING ? undefined : value;
    for (const v of pipe.decl) {
      if (pipe.isAssign) this.setVar(v.ident[0]!, result);
      else this.#push(v.ident[0]!, result);
    }
    return result;
  }

  #notAFunction(args: readonly ArgNode[], final: Final): void {
    if (args.length > 1 || final !== MISSING) {
      this.errorf(`can't give argument to non-function ${nodeString(args[0]!)}`);
    }
  }

  #evalCommand(dot: Value, cmd: CommandNode, final: Final): Value {
    const first = cmd.args[0]!;
    switch (first.type) {
      case "field":
        return this.#evalFieldNode(dot, first, cmd.args, final);
      case "chain":
        return this.#evalChainNode(dot, first, cmd.args, final);
      case "identifier":
        return this.#evalFunction(dot, first, cmd, cmd.args, final);
      case "pipe":
        this.#notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case "variable":
        return this.#evalVariableNode(first, cmd.args, final);
    }
    this.node = first;
    this.#notAFunction(cmd.args, final);
    switch (first.type) {
      case "bool":
        return first.value;
      case "dot":
        return dot;
      case "nil":
        return this.errorf("nil is not a command");
      case "number":
        return this.#idealConstant(first);
      case "string":
        return first.text;
    }
  }

  #idealConstant(n: NumberNode): Value {
    this.node = n;
    const t = n.text;
    const hexInt = t.length > 2 && t[0] === "0" && (t[1] === "x" || t[1] === "X") &&
      !/[pP]/.test(t);
    if (n.isComplex) return new GoComplex(n.re, n.im);
    if (n.isFloat && !hexInt && t[0] !== "'" && /[.eEpP]/.test(t)) return n.float64;
    if (n.isInt) return n.int64;
    if (n.isUint) this.errorf(`${t} overflows int`);
    return undefined;
  }

  #evalFieldNode(dot: Value, field: FieldNode, args: readonly ArgNode[], final: Final): Value {
    this.node = field;
    return this.#evalFieldChain(dot, this.dotIface, field.ident, args, final);
  }

  #evalChainNode(dot: Value, chain: ChainNode, args: readonly ArgNode[], final: Final): Value {
    this.node = chain;
    if (chain.node.type === "nil") {
      this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    }
    const pipe = this.#evalArg(dot, null, chain.node);
    return this.#evalFieldChain(pipe, false, chain.field, args, final);
  }

  #evalVariableNode(
    variable: VariableNode,
    args: readonly ArgNode[],
    final: Final,
  ): Value {
    this.node = variable;
    const v = this.#findVar(variable.ident[0]!);
    if (variable.ident.length === 1) {
      this.#notAFunction(args, final);
      return v.value;
    }
    return this.#evalFieldChain(v.value, v.iface, variable.ident.slice(1), args, final);
  }

  #evalFieldChain(
    receiver: Value,
    iface: boolean,
    ident: readonly string[],
    args: readonly ArgNode[],
    final: Final,
  ): Value {
    const n = ident.length;
    for (let i = 0; i < n - 1; i++) {
      receiver = this.#evalField(ident[i]!, [], MISSING, receiver, iface);
      iface = true;
    }
    return this.#evalField(ident[n - 1]!, args, final, receiver, iface);
  }

  #evalField(
    fieldName: string,
    args: readonly ArgNode[],
    final: Final,
    receiver: Value,
    iface: boolean,
  ): Value {
    if (receiver === undefined) return undefined;
    const typ = iface ? "interface {}" : typeName(receiver);
    if (receiver === null) this.errorf(`nil pointer evaluating ${typ}.${fieldName}`);
    if (isMap(receiver)) {
      if (args.length > 1 || final !== MISSING) {
        this.errorf(`${fieldName} is not a method but has arguments`);
      }
      return Object.hasOwn(receiver, fieldName) ? receiver[fieldName] : undefined;
    }
    return this.errorf(`can't evaluate field ${fieldName} in type ${typ}`);
  }

  #evalFunction(
    dot: Value,
    node: IdentifierNode,
    cmd: Node,
    args: readonly ArgNode[] | null,
    final: Final,
  ): Value {
    this.node = node;
    const fn = this.#funcs.get(node.ident);
    if (fn === undefined) return this.errorf(`${goQuote(node.ident)} is not a defined function`);
    return this.#evalCall(dot, fn, cmd, node.ident, args, final);
  }

  #evalCall(
    dot: Value,
    fn: FuncSpec,
    node: Node,
    name: string,
    allArgs: readonly ArgNode[] | null,
    final: Final,
  ): Value {
    const args = allArgs === null ? [] : allArgs.slice(1);
    const numIn = args.length + (final === MISSING ? 0 : 1);
    let numFixed = args.length;
    if (fn.variadic !== null) {
      numFixed = fn.params.length;
      if (numIn < numFixed) {
        this.errorf(
          `wrong number of args for ${name}: want at least ${numFixed} got ${args.length}`,
        );
      }
    } else if (numIn !== fn.params.length) {
      this.errorf(`wrong number of args for ${name}: want ${fn.params.length} got ${numIn}`);
    }
    if (fn.builtin && (name === "and" || name === "or")) {
      let v: Value = undefined;
      for (const arg of args) {
        v = this.#evalArg(dot, "value", arg);
        if (isTrue(v === null ? undefined : v) === (name === "or")) return v;
      }
      if (final !== MISSING) v = final;
      return v;
    }
    const argv: Value[] = [];
    const ifaces: boolean[] = [];
    let i = 0;
    for (; i < args.length && (i < numFixed || fn.variadic !== null); i++) {
      argv.push(this.#evalArg(dot, i < numFixed ? fn.params[i]! : fn.variadic!, args[i]!));
      ifaces.push(this.#isIface(args[i]!));
    }
    if (final !== MISSING) {
      let t = fn.params[fn.params.length - 1] ?? fn.variadic;
      if (fn.variadic !== null) t = numIn - 1 < numFixed ? fn.params[numIn - 1]! : fn.variadic;
      argv.push(this.#validateType(final, t!));
    }
    let result: Value;
    try {
      if (fn.builtin && name === "call") throw new Error(callError(args, final, argv[0]));
      this.count();
      result = fn.call(argv, ifaces);
    } catch (e) {
      if (e instanceof TemplateError) throw e;
      this.node = node;
      return this.errorf(`error calling ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (typeof result === "string" && result.length > this.#valueCap) {
      this.node = node;
      this.overBudget("value", this.#valueCap);
    }
    return result;
  }

  /** Counts one step against the budget. */
  count(): void {
    if (++this.#steps > this.#budget.steps) this.overBudget("steps", this.#budget.steps);
  }

  /** Throws the error of a rendering over its budget, at the current node. */
  overBudget(limit: "output" | "value" | "steps", cap: number): never {
    const what = limit === "output"
      ? "the output is longer than"
      : limit === "value"
      ? "a value is longer than"
      : "it takes more than";
    const loc = this.node === null ? { line: 0, column: 0, byteColumn: 0 } : location(
      this.#text,
      this.node.pos,
    );
    throw new TemplateBudgetError(
      `template: ${this.#parseName}:${loc.line}:${loc.byteColumn}: rendering stopped: ${what} ` +
        `the cap of ${this.#parseName}, ${describeCap(limit, cap)}`,
      { templateName: this.#parseName, line: loc.line, column: loc.column, limit, cap },
    );
  }

  /** Whether an evaluated argument was read out of a map or array (Go's `interface {}`). */
  #isIface(n: ArgNode): boolean {
    switch (n.type) {
      case "dot":
        return this.dotIface;
      case "field":
      case "chain":
        return true;
      case "variable":
        return n.ident.length > 1 || this.#findVar(n.ident[0]!).iface;
      default:
        return false;
    }
  }

  #validateType(value: Value, typ: ParamKind | null): Value {
    if (value === undefined) {
      if (typ === "string") this.errorf("invalid value; expected string");
      return typ === "any" ? null : undefined;
    }
    if (typ === "string" && typeof value !== "string") {
      this.errorf(`wrong type for value; expected string; got ${typeName(value)}`);
    }
    return value;
  }

  #evalArg(dot: Value, typ: ParamKind | null, n: ArgNode): Value {
    this.node = n;
    switch (n.type) {
      case "dot":
        return this.#validateType(dot, typ);
      case "nil":
        if (typ === "string") this.errorf("cannot assign nil to string");
        return typ === "any" ? null : undefined;
      case "field":
        return this.#validateType(this.#evalFieldNode(dot, n, [n], MISSING), typ);
      case "variable":
        return this.#validateType(this.#evalVariableNode(n, [], MISSING), typ);
      case "pipe":
        return this.#validateType(this.evalPipeline(dot, n), typ);
      case "identifier":
        return this.#validateType(this.#evalFunction(dot, n, n, null, MISSING), typ);
      case "chain":
        return this.#validateType(this.#evalChainNode(dot, n, [], MISSING), typ);
    }
    if (typ === "string") {
      if (n.type !== "string") this.errorf(`expected string; found ${nodeString(n)}`);
      return n.text;
    }
    switch (n.type) {
      case "bool":
        return n.value;
      case "number":
        return this.#idealConstant(n);
      case "string":
        return n.text;
    }
  }
}

/** Go's `call` builtin always fails here: JSON data holds no functions. */
function callError(args: readonly ArgNode[], final: Final, fn: Value): string {
  if (fn === undefined || fn === null) return "call of nil";
  let name: string;
  if (args.length > 0) name = nodeString(args[0]!);
  else if (typeof final === "string") name = final;
  else name = `<${typeName(final === MISSING ? undefined : final)} Value>`;
  return sprintf("non-function %s of type %s", [name, typeName(fn)]);
}
