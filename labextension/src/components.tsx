/**
 * The sidebar's sections and rows. Lists show 100 rows and a "show more" button, so a
 * registry with 1,000 repositories draws as fast as one with ten; a repository's tags are asked
 * for only when it is opened.
 */
import {
  caretDownIcon,
  caretRightIcon,
  copyIcon,
  launchIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { ContainerAction, DeployModel } from './model';
import { IContainer, IRegistryState, ITag } from './types';

export const PAGE = 100;

/** What rows can ask the application to do (confirmation lives there). */
export interface IActions {
  act(container: IContainer, action: ContainerAction): Promise<void>;
  showLogs(container: IContainer): void;
  showStats(container: IContainer): Promise<void>;
  copySnippet(container: IContainer): void;
  pull(reference: string): Promise<void>;
}

function Section(props: {
  title: string;
  count: number;
  kind: string;
  children: React.ReactNode;
}): JSX.Element {
  const [open, setOpen] = React.useState(true);
  const Caret = open ? caretDownIcon : caretRightIcon;
  return (
    <section className={`jp-DeploySection jp-DeploySection-${props.kind}`}>
      <h3 className="jp-DeploySection-title" onClick={() => setOpen(!open)}>
        <Caret.react tag="span" />
        {props.title}
        <span className="jp-DeploySection-count">{props.count}</span>
      </h3>
      {open && props.children}
    </section>
  );
}

/** A list that renders `PAGE` rows more each time its button is pressed. */
function Paged<T>(props: {
  items: T[];
  empty: string;
  render: (item: T) => JSX.Element;
}): JSX.Element {
  const [shown, setShown] = React.useState(PAGE);
  if (props.items.length === 0) {
    return <div className="jp-DeploySidebar-empty">{props.empty}</div>;
  }
  const rest = props.items.length - shown;
  return (
    <ul className="jp-DeployList">
      {props.items.slice(0, shown).map(props.render)}
      {rest > 0 && (
        <li>
          <button
            className="jp-DeployList-more jp-Button jp-mod-minimal"
            onClick={() => setShown(shown + PAGE)}
          >
            Show {Math.min(rest, PAGE)} more ({rest} not shown)
          </button>
        </li>
      )}
    </ul>
  );
}

const matches = (filter: string, ...texts: (string | null | undefined)[]) =>
  !filter || texts.some(t => (t ?? '').toLowerCase().includes(filter));

export function ContainerList(props: {
  model: DeployModel;
  actions: IActions;
  filter: string;
}): JSX.Element {
  const rank = (c: IContainer) => (c.service ? 0 : c.ours ? 1 : 2);
  const items = props.model.containers
    .filter(c => matches(props.filter, c.name, c.image, c.service, c.state))
    .sort((a, b) => rank(a) - rank(b));
  return (
    <Section title="Containers" count={items.length} kind="containers">
      <Paged
        items={items}
        empty={props.filter ? 'No container matches.' : 'No containers on this engine.'}
        render={c => <ContainerRow key={c.id} container={c} actions={props.actions} />}
      />
    </Section>
  );
}

function ContainerRow(props: { container: IContainer; actions: IActions }): JSX.Element {
  const { container: c, actions } = props;
  const running = c.state === 'running';
  const ports = c.ports
    .filter(p => p.public_port)
    .map(p => `${p.ip || '*'}:${p.public_port}→${p.private_port}`)
    .join(', ');
  return (
    <li
      className="jp-DeployContainer-row jp-DeployRow"
      data-name={c.name}
      data-state={c.state}
    >
      <div className="jp-DeployRow-main">
        <span className={`jp-DeployState jp-DeployState-${c.state}`} title={c.state} />
        <span className="jp-DeployRow-name" title={c.id}>
          {c.name}
        </span>
        {c.service ? (
          <span className="jp-DeployBadge" title={`jupyter_deploy service ${c.service}`}>
            service
          </span>
        ) : (
          c.ours && (
            <span className="jp-DeployBadge jp-mod-managed" title="Made by jupyter_deploy">
              managed
            </span>
          )
        )}
        {c.health && <span className={`jp-DeployHealth-${c.health}`}>{c.health}</span>}
      </div>
      <div className="jp-DeployRow-detail" title={c.image}>
        {c.image}
      </div>
      <div className="jp-DeployRow-detail">
        {c.status}
        {ports && ` · ${ports}`}
      </div>
      <div className="jp-DeployRow-actions">
        <button onClick={() => actions.showLogs(c)} title="Show the log tail">
          Logs
        </button>
        {running && (
          <button onClick={() => void actions.showStats(c)} title="Memory and CPU now">
            Stats
          </button>
        )}
        {c.scoring_uri && running && (
          <a
            className="jp-DeployRow-link"
            href={c.scoring_uri.replace(/\/score$/, '/')}
            target="_blank"
            rel="noopener noreferrer"
            title={`Open ${c.scoring_uri}`}
          >
            <launchIcon.react tag="span" /> Open
          </a>
        )}
        {c.snippet && (
          <button onClick={() => actions.copySnippet(c)} title="Copy a notebook snippet">
            <copyIcon.react tag="span" /> Snippet
          </button>
        )}
        <button onClick={() => void actions.act(c, 'restart')} title="Restart">
          {running ? 'Restart' : 'Start'}
        </button>
        {running && (
          <button
            className="jp-DeployRow-stop"
            onClick={() => void actions.act(c, 'stop')}
            title="Stop"
          >
            Stop
          </button>
        )}
        <button
          className="jp-DeployRow-remove"
          onClick={() => void actions.act(c, 'remove')}
          title="Remove"
        >
          Remove
        </button>
      </div>
    </li>
  );
}

export function ImageList(props: { model: DeployModel; filter: string }): JSX.Element {
  const items = props.model.images.filter(i => matches(props.filter, i.id, ...i.tags));
  return (
    <Section title="Local images" count={items.length} kind="images">
      <Paged
        items={items}
        empty={props.filter ? 'No image matches.' : 'No images in the engine.'}
        render={i => (
          <li key={i.id} className="jp-DeployImage-row jp-DeployRow">
            <div className="jp-DeployRow-main">
              <span className="jp-DeployRow-name">{i.tags[0] ?? i.id.slice(7, 19)}</span>
            </div>
            <div className="jp-DeployRow-detail">
              {formatSize(i.size)}
              {i.tags.length > 1 && ` · ${i.tags.length - 1} more tags`}
            </div>
          </li>
        )}
      />
    </Section>
  );
}

export function RegistryList(props: {
  model: DeployModel;
  actions: IActions;
  filter: string;
}): JSX.Element {
  const registries = props.model.registries;
  return (
    <>
      {registries.map(r => (
        <RegistrySection key={r.address} registry={r} {...props} />
      ))}
    </>
  );
}

function RegistrySection(props: {
  registry: IRegistryState;
  model: DeployModel;
  actions: IActions;
  filter: string;
}): JSX.Element {
  const { registry: r, model, actions, filter } = props;
  const names = (r.repositories ?? []).filter(n => matches(filter, n));
  return (
    <Section title={`Registry ${r.address}`} count={names.length} kind="registry">
      {r.repositories === null ? (
        <div className="jp-DeploySidebar-error">
          <strong>Registry not reachable</strong>
          <p>{r.loadError ?? r.error}</p>
        </div>
      ) : (
        <Paged
          items={names}
          empty={filter ? 'No repository matches.' : 'This registry holds no images yet.'}
          render={name => (
            <RepositoryRow
              key={name}
              address={r.address}
              name={name}
              model={model}
              actions={actions}
            />
          )}
        />
      )}
    </Section>
  );
}

function RepositoryRow(props: {
  address: string;
  name: string;
  model: DeployModel;
  actions: IActions;
}): JSX.Element {
  const { address, name, model, actions } = props;
  const [open, setOpen] = React.useState(false);
  const state = model.tagState(address, name);
  const toggle = () => {
    if (!open && !state) {
      void model.loadTags(address, name);
    }
    setOpen(!open);
  };
  const Caret = open ? caretDownIcon : caretRightIcon;
  return (
    <li className="jp-DeployRepository-row jp-DeployRow" data-name={name}>
      <div className="jp-DeployRow-main jp-DeployRow-toggle" onClick={toggle}>
        <Caret.react tag="span" />
        <span className="jp-DeployRow-name">{name}</span>
      </div>
      {open && state?.loading && <div className="jp-DeployRow-detail">Loading tags…</div>}
      {open && state?.error && <div className="jp-DeploySidebar-error">{state.error}</div>}
      {open && state && !state.loading && !state.error && (
        <ul className="jp-DeployList jp-DeployTags">
          {state.tags.length === 0 && <li className="jp-DeploySidebar-empty">No tags.</li>}
          {state.tags.map(t => (
            <TagRow key={t.tag} address={address} tag={t} actions={actions} />
          ))}
        </ul>
      )}
    </li>
  );
}

function TagRow(props: { address: string; tag: ITag; actions: IActions }): JSX.Element {
  const { address, tag: t, actions } = props;
  const reference = `${address}/${t.repository}:${t.tag}`;
  return (
    <li className="jp-DeployTag-row" data-reference={reference}>
      <div className="jp-DeployRow-main">
        <span className="jp-DeployRow-name">:{t.tag}</span>
        <button onClick={() => void actions.pull(reference)} title={`Pull ${reference}`}>
          Pull
        </button>
      </div>
      <div className="jp-DeployRow-detail" title={t.digest ?? ''}>
        {formatSize(t.size)}
        {t.created && ` · ${t.created.slice(0, 19).replace('T', ' ')}`}
        {t.platforms.length > 0 && ` · ${t.platforms.join(', ')}`}
        {t.digest && ` · ${t.digest.slice(7, 19)}`}
      </div>
    </li>
  );
}

export function formatSize(bytes: number | null): string {
  if (bytes === null || bytes === undefined) {
    return 'size unknown';
  }
  const units = ['B', 'KB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
