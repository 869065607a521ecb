import type { ComponentChildren } from 'preact';

/** Shared building blocks. A badge always carries words, never colour alone. */

export type Tone = 'ok' | 'bad' | 'warn' | 'info' | 'muted';

export function Badge(props: { tone: Tone; children: ComponentChildren; title?: string }) {
  return (
    <span class={`badge badge-${props.tone}`} title={props.title}>
      <span class="badge-dot" aria-hidden="true" />
      {props.children}
    </span>
  );
}

export function Panel(props: {
  id: string;
  title: string;
  actions?: ComponentChildren;
  children: ComponentChildren;
  class?: string;
}) {
  return (
    <section class={`panel ${props.class ?? ''}`} aria-labelledby={`${props.id}-title`}>
      <header class="panel-head">
        <h2 id={`${props.id}-title`}>{props.title}</h2>
        {props.actions}
      </header>
      {props.children}
    </section>
  );
}

/** Command output: collapsed by default, monospace, scrolls instead of stretching the page. */
export function Output(props: { text: string | null | undefined; label: string }) {
  if (!props.text) return <span class="muted">—</span>;
  const first = props.text.split('\n').find((l) => l.trim()) ?? '';
  return (
    <details class="output">
      <summary>
        <span class="sr-only">{props.label}: </span>
        <span class="output-first">{first.length > 60 ? `${first.slice(0, 60)}…` : first || '(blank)'}</span>
      </summary>
      <pre>{props.text}</pre>
    </details>
  );
}

export function Logo() {
  return (
    <svg class="logo" viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <circle cx="16" cy="16" r="11" fill="none" stroke="currentColor" stroke-width="4" />
      <circle cx="16" cy="16" r="4" fill="currentColor" />
    </svg>
  );
}

/** A table cell that carries its column name, shown beside the value on narrow screens. */
export function Cell(props: {
  label: string;
  header?: boolean;
  class?: string;
  children: ComponentChildren;
}) {
  const inner = <div class="cell">{props.children}</div>;
  return props.header ? (
    <th scope="row" data-label={props.label} class={props.class}>
      {inner}
    </th>
  ) : (
    <td data-label={props.label} class={props.class}>
      {inner}
    </td>
  );
}
