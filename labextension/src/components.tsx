/**
 * The sidebar's sections and rows. Lists show 100 rows and a "show more" button, so a
 * registry with 1,000 repositories draws as fast as one with ten; a repository's tags are asked
 * for only when it is opened.
 */
import {
  caretDownIcon,
  caretRightIcon,
  closeIcon,
  ellipsesIcon,
  LabIcon,
  listIcon,
  runIcon,
  stopIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';

import { ContainerAction, DeployModel } from './model';
import { IBaseImage, IContainer, IRegistryState, IService, ITag } from './types';

export const PAGE = 100;

/** What rows can ask the application to do (confirmation lives there). */
export interface IActions {
  act(container: IContainer, action: ContainerAction): Promise<void>;
  showLogs(container: IContainer): void;
  showStats(container: IContainer): Promise<void>;
  copySnippet(container: IContainer): void;
  pull(reference: string): Promise<void>;
  /** Every action on a container, as a context menu at (x, y). */
  openMenu(container: IContainer, x: number, y: number): void;
  /** Ask for a replica count and scale a cluster service to it. */
  scale(service: IService): Promise<void>;
  /** Put a service's primary key in the clipboard (the page shows it masked, never whole). */
  copyKey(service: IService): Promise<void>;
  /** Put a key-less snippet that scores the service in the clipboard. */
  copyServiceSnippet(service: IService): void;
  /** Put the `env.docker.base_image = …` line naming a prebuilt base image in the clipboard. */
  copyBaseImage(image: IBaseImage): void;
  /** Build a prebuilt base image now, saying how it went. */
  buildBaseImage(image: IBaseImage): Promise<void>;
}

export function Section(props: {
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
export function Paged<T>(props: {
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

export const matches = (filter: string, ...texts: (string | null | undefined)[]) =>
  !filter || texts.some(t => (t ?? '').toLowerCase().includes(filter));

export function ContainerList(props: {
  model: DeployModel;
  actions: IActions;
  filter: string;
}): JSX.Element {
  const rank = (c: IContainer) => (c.service ? 0 : c.ours ? 1 : 2);
  const items = props.model.containers.filter(c =>
    matches(props.filter, c.name, c.image, c.service, c.state, c.swarm_service)
  );
  const groups = swarmGroups(items);
  const plain = items.filter(c => !c.swarm_service).sort((a, b) => rank(a) - rank(b));
  return (
    <Section title="Containers" count={items.length} kind="containers">
      {groups.length > 0 && (
        <ul className="jp-DeployList jp-DeploySwarmGroups">
          {groups.map(([service, members]) => (
            <SwarmGroup
              key={service}
              service={service}
              members={members}
              actions={props.actions}
            />
          ))}
        </ul>
      )}
      {(plain.length > 0 || groups.length === 0) && (
        <Paged
          items={plain}
          empty={props.filter ? 'No container matches.' : 'No containers on this engine.'}
          render={c => <ContainerRow key={c.id} container={c} actions={props.actions} />}
        />
      )}
    </Section>
  );
}

/** Containers of each Swarm service (its replicas and our load balancer), by service name. */
function swarmGroups(containers: IContainer[]): [string, IContainer[]][] {
  const groups = new Map<string, IContainer[]>();
  for (const c of containers) {
    if (c.swarm_service) {
      groups.set(c.swarm_service, [...(groups.get(c.swarm_service) ?? []), c]);
    }
  }
  const order = (c: IContainer) => (c.role === 'load-balancer' ? 0 : 1);
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, members]) => [
      name,
      members.sort((a, b) => order(a) - order(b) || a.name.localeCompare(b.name))
    ]);
}

/**
 * A Swarm service's containers as one line (closed by default): its replica containers
 * (`<service>.<slot>.<task>`) and load balancer (`jd-lb-<service>`) would otherwise crowd out
 * every other container. Opened, each is an ordinary container row with its actions.
 */
function SwarmGroup(props: {
  service: string;
  members: IContainer[];
  actions: IActions;
}): JSX.Element {
  const { service, members, actions } = props;
  const [open, setOpen] = React.useState(false);
  const Caret = open ? caretDownIcon : caretRightIcon;
  const replicas = members.filter(c => c.role === 'replica');
  const running = replicas.filter(c => c.state === 'running').length;
  const balancer = members.find(c => c.role === 'load-balancer');
  const port = balancer?.ports.find(p => p.public_port)?.public_port;
  return (
    <li className="jp-DeploySwarmGroup-row" data-name={service}>
      <div className="jp-DeployRow-main jp-DeployRow-toggle" onClick={() => setOpen(!open)}>
        <Caret.react tag="span" />
        <span className="jp-DeployRow-name" title={service}>
          {service}
        </span>
        <span className="jp-DeployBadge" title={`containers of the Swarm service ${service}`}>
          swarm
        </span>
        <span
          className="jp-DeploySwarmGroup-detail"
          title={
            `${running} of ${replicas.length} replica containers running` +
            (balancer ? `, behind the load balancer ${balancer.name}` : '')
          }
        >
          {running}/{replicas.length} running
        </span>
        {port && <span className="jp-DeployRow-port">:{port}</span>}
      </div>
      {open && (
        <ul className="jp-DeployList jp-DeploySwarmGroup-members">
          {members.map(c => (
            <ContainerRow key={c.id} container={c} actions={actions} />
          ))}
        </ul>
      )}
    </li>
  );
}

/** One icon button of a row; its label is spoken and findable, the icon is what shows. */
export function RowIcon(props: {
  kind: string;
  label: string;
  icon: LabIcon;
  onClick: (event: React.MouseEvent) => void;
}): JSX.Element {
  return (
    <button
      className={`jp-DeployRow-icon jp-DeployRow-${props.kind}`}
      title={props.label}
      aria-label={props.label}
      onClick={event => {
        event.stopPropagation();
        props.onClick(event);
      }}
    >
      <props.icon.react tag="span" />
      <span className="jp-DeployRow-srOnly">{props.label}</span>
    </button>
  );
}

/**
 * One calm line per container, as JupyterLab's running-sessions panel draws them: the state
 * dot, the name and the published port; the usual actions as icons that appear on hover or
 * focus; every action in the context menu (right click, or the "…" icon).
 */
function ContainerRowView(props: { container: IContainer; actions: IActions }): JSX.Element {
  const { container: c, actions } = props;
  const running = c.state === 'running';
  const port = c.ports.find(p => p.public_port)?.public_port;
  const menu = (event: React.MouseEvent) => {
    event.preventDefault();
    actions.openMenu(c, event.clientX, event.clientY);
  };
  return (
    <li
      className={`jp-DeployContainer-row jp-DeployRow${c.ours ? '' : ' jp-mod-foreign'}`}
      data-name={c.name}
      data-state={c.state}
      title={`${c.name}\n${c.image}\n${c.status}${c.ours ? '' : '\nnot made by jupyter_deploy'}`}
      onContextMenu={menu}
    >
      <div className="jp-DeployRow-main">
        <span className={`jp-DeployState jp-DeployState-${c.state}`} />
        <span className="jp-DeployRow-name">{c.name}</span>
        {c.service && (
          <span className="jp-DeployBadge" title={`jupyter_deploy service ${c.service}`}>
            service
          </span>
        )}
        {c.health && <span className={`jp-DeployHealth-${c.health}`}>{c.health}</span>}
        {port && <span className="jp-DeployRow-port">:{port}</span>}
        <span className="jp-DeployRow-icons">
          <RowIcon kind="logs" label="Logs" icon={listIcon} onClick={() => actions.showLogs(c)} />
          {running ? (
            <RowIcon
              kind="stop"
              label="Stop"
              icon={stopIcon}
              onClick={() => void actions.act(c, 'stop')}
            />
          ) : (
            <RowIcon
              kind="start"
              label="Start"
              icon={runIcon}
              onClick={() => void actions.act(c, 'restart')}
            />
          )}
          <RowIcon
            kind="remove"
            label="Remove"
            icon={closeIcon}
            onClick={() => void actions.act(c, 'remove')}
          />
          <RowIcon kind="more" label="More actions" icon={ellipsesIcon} onClick={menu} />
        </span>
      </div>
    </li>
  );
}

/** A row draws again only when what the server says about its container changed. */
const ContainerRow = React.memo(
  ContainerRowView,
  (before, after) =>
    before.actions === after.actions &&
    JSON.stringify(before.container) === JSON.stringify(after.container)
);

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
