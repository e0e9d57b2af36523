/**
 * Parse-tree nodes of a template (Go's `text/template/parse/node.go`) and their `String()`
 * forms, which execution errors quote as `executing "x" at <.a.b>`.
 *
 * @module
 */

import { goQuote } from "./escape.ts";

/** A sequence of nodes. */
export interface ListNode {
  type: "list";
  pos: number;
  nodes: Node[];
}

/** Plain text between actions. */
export interface TextNode {
  type: "text";
  pos: number;
  text: string;
}

/** `{{pipeline}}`, printed unless it declares variables. */
export interface ActionNode {
  type: "action";
  pos: number;
  pipe: PipeNode;
}

/** `{{if}}`, `{{range}}` or `{{with}}`. */
export interface BranchNode {
  type: "if" | "range" | "with";
  pos: number;
  pipe: PipeNode;
  list: ListNode;
  elseList: ListNode | null;
}

/** `{{template "name" pipeline}}` (also what `{{block}}` leaves in place). */
export interface TemplateNode {
  type: "template";
  pos: number;
  name: string;
  pipe: PipeNode | null;
}

/** `{{break}}` or `{{continue}}`. */
export interface LoopControlNode {
  type: "break" | "continue";
  pos: number;
}

/** `{{end}}` or `{{else}}`, only seen while parsing. */
export interface DelimiterNode {
  type: "end" | "else";
  pos: number;
}

/** Declarations plus commands separated by `|`. */
export interface PipeNode {
  type: "pipe";
  pos: number;
  isAssign: boolean;
  decl: VariableNode[];
  cmds: CommandNode[];
}

/** One command of a pipeline: an operand followed by arguments. */
export interface CommandNode {
  type: "command";
  pos: number;
  args: ArgNode[];
}

/** A function name. */
export interface IdentifierNode {
  type: "identifier";
  pos: number;
  ident: string;
}

/** `$x.a.b`: the variable name followed by fields. */
export interface VariableNode {
  type: "variable";
  pos: number;
  ident: string[];
}

/** `.a.b`. */
export interface FieldNode {
  type: "field";
  pos: number;
  ident: string[];
}

/** `(pipeline).a.b` or `fn.a`. */
export interface ChainNode {
  type: "chain";
  pos: number;
  node: ArgNode;
  field: string[];
}

/** The cursor, `.`. */
export interface DotNode {
  type: "dot";
  pos: number;
}

/** The untyped `nil`. */
export interface NilNode {
  type: "nil";
  pos: number;
}

/** `true` or `false`. */
export interface BoolNode {
  type: "bool";
  pos: number;
  value: boolean;
}

/** A numeric or character literal with every Go type it fits. */
export interface NumberNode {
  type: "number";
  pos: number;
  text: string;
  isInt: boolean;
  isUint: boolean;
  isFloat: boolean;
  isComplex: boolean;
  int64: bigint;
  float64: number;
  re: number;
  im: number;
}

/** A string literal: `quoted` as written, `text` after unquoting. */
export interface StringNode {
  type: "string";
  pos: number;
  quoted: string;
  text: string;
}

/** Nodes that can appear as command arguments. */
export type ArgNode =
  | PipeNode
  | IdentifierNode
  | VariableNode
  | FieldNode
  | ChainNode
  | DotNode
  | NilNode
  | BoolNode
  | NumberNode
  | StringNode;

/** Every node kind. */
export type Node =
  | ListNode
  | TextNode
  | ActionNode
  | BranchNode
  | TemplateNode
  | LoopControlNode
  | DelimiterNode
  | CommandNode
  | ArgNode;

/** One named template: the top-level text or a `{{define}}`/`{{block}}`. */
export interface Tree {
  name: string;
  root: ListNode;
}

/** Go's `Node.String()`. */
export function nodeString(n: Node): string {
  switch (n.type) {
    case "list":
      return n.nodes.map(nodeString).join("");
    case "text":
      return n.text;
    case "action":
      return `{{${nodeString(n.pipe)}}}`;
    case "if":
    case "range":
    case "with": {
      const elsePart = n.elseList ? `{{else}}${nodeString(n.elseList)}` : "";
      return `{{${n.type} ${nodeString(n.pipe)}}}${nodeString(n.list)}${elsePart}{{end}}`;
    }
    case "template":
      return `{{template ${goQuote(n.name)}${n.pipe ? " " + nodeString(n.pipe) : ""}}}`;
    case "break":
    case "continue":
    case "end":
    case "else":
      return `{{${n.type}}}`;
    case "pipe": {
      const decl = n.decl.length > 0 ? n.decl.map(nodeString).join(", ") + " := " : "";
      return decl + n.cmds.map(nodeString).join(" | ");
    }
    case "command":
      return n.args.map((a) => a.type === "pipe" ? `(${nodeString(a)})` : nodeString(a)).join(" ");
    case "identifier":
      return n.ident;
    case "variable":
      return n.ident.join(".");
    case "field":
      return n.ident.map((id) => "." + id).join("");
    case "chain": {
      const base = n.node.type === "pipe" ? `(${nodeString(n.node)})` : nodeString(n.node);
      return base + n.field.map((f) => "." + f).join("");
    }
    case "dot":
      return ".";
    case "nil":
      return "nil";
    case "bool":
      return String(n.value);
    case "number":
      return n.text;
    case "string":
      return n.quoted;
  }
}
