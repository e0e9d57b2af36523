/** @jsxImportSource react */
/** @jsxImportSourceTypes @types/react */
/**
 * Paints the lines of `layout.ts` with Ink and turns key presses into key names for the
 * reducer. Holds no state of its own: it renders whatever the controller's store holds.
 *
 * @module
 */

import { Box, type Key, Text, useInput } from "ink";
import { useSyncExternalStore } from "react";
import type { Line, Screen, Segment, Tone } from "./layout.ts";

/** What the view reads: the current screen, and where to send keys. */
export interface ViewStore {
  subscribe(listener: () => void): () => void;
  screen(): Screen;
  key(name: string): void;
  color: boolean;
}

const PALETTE: Record<Tone, string> = {
  gold: "#d7af00",
  green: "green",
  red: "red",
  yellow: "yellow",
  cyan: "cyan",
  dim: "gray",
  blue: "blue",
};

/**
 * The key names of an Ink key press (see `handleKey`); none for keys nexus ignores. Keys typed
 * faster than they are read arrive as one chunk (`jl`): each character is a key.
 */
export function keyNames(input: string, key: Key): string[] {
  const one = keyName(input, key);
  if (one) return [one];
  if (key.ctrl || key.meta || input.length < 2) return [];
  return [...input].filter((ch) => ch >= " " && ch !== "\x7f");
}

function keyName(input: string, key: Key): string | undefined {
  if (key.ctrl && input === "c") return "ctrl+c";
  if (key.upArrow) return "up";
  if (key.downArrow) return "down";
  if (key.leftArrow) return "h";
  if (key.rightArrow) return "l";
  if (key.pageUp) return "pageup";
  if (key.pageDown) return "pagedown";
  if (key.return) return "enter";
  if (key.escape) return "esc";
  if (key.ctrl || key.meta) return undefined;
  return input.length === 1 ? input : undefined;
}

/**
 * The text of a segment as it may reach the terminal: only log lines (`ansi`, already reduced
 * to colour sequences) keep escape characters; in every other text (names, tool calls, errors,
 * payload samples: some come from agents and strangers) a control character is a space.
 */
export function printable(seg: Segment): string {
  // deno-lint-ignore no-control-regex
  return seg.ansi ? seg.text : seg.text.replace(/[\x00-\x1f\x7f-\x9f]/g, " ");
}

function Seg(props: { seg: Segment; color: boolean }) {
  const { color } = props;
  const seg = { ...props.seg, text: printable(props.seg) };
  if (!color) return <Text inverse={seg.inverse ?? false}>{seg.text}</Text>;
  return (
    <Text
      {...(seg.tone ? { color: PALETTE[seg.tone] } : {})}
      {...(seg.tone === "dim" ? { dimColor: true } : {})}
      bold={seg.bold ?? false}
      inverse={seg.inverse ?? false}
    >
      {seg.text}
    </Text>
  );
}

function Row(props: { line: Line; width: number; color: boolean }) {
  return (
    <Box width={props.width} height={1} overflow="hidden">
      <Text wrap="truncate-end">
        {props.line.map((seg, i) => <Seg key={i} seg={seg} color={props.color} />)}
      </Text>
    </Box>
  );
}

/** The whole dashboard. */
export function NexusView(props: { store: ViewStore }) {
  const { store } = props;
  const screen = useSyncExternalStore(store.subscribe, store.screen);
  useInput(function onKey(input, key) {
    for (const name of keyNames(input, key)) store.key(name);
  });
  const color = store.color;
  if (screen.tooSmall) {
    return (
      <Box width={screen.width} height={screen.height - 1}>
        <Text wrap="wrap">{screen.tooSmall}</Text>
      </Box>
    );
  }
  const panelWidth = screen.width - screen.sidebarWidth - 1;
  return (
    <Box flexDirection="column" width={screen.width} height={screen.height - 1}>
      <Row line={screen.header} width={screen.width} color={color} />
      <Box flexDirection="row" height={screen.sidebar.length}>
        <Box flexDirection="column" width={screen.sidebarWidth}>
          {screen.sidebar.map((l, i) => (
            <Row key={i} line={l} width={screen.sidebarWidth} color={color} />
          ))}
        </Box>
        <Box flexDirection="column" width={1}>
          {screen.sidebar.map((_, i) => (
            <Text key={i} {...(color ? { color: PALETTE.gold } : {})}>│</Text>
          ))}
        </Box>
        <Box flexDirection="column" width={panelWidth}>
          {screen.panel.map((l, i) => <Row key={i} line={l} width={panelWidth} color={color} />)}
        </Box>
      </Box>
      <Row line={screen.status} width={screen.width} color={color} />
      <Row line={screen.hints} width={screen.width} color={color} />
    </Box>
  );
}
