/**
 * The sidebar's Services section: every service on every target of the engine (this machine's
 * containers, and Swarm services behind their load balancer), one calm line each — state dot,
 * name, a lock when it asks for a key, its target, `healthy/desired` replicas and port — with
 * scale, copy-key and copy-snippet as icons on hover. Keys never reach the page: copying asks
 * the server for them and puts them straight into the clipboard.
 */
import { codeIcon, copyIcon, lockIcon, numberingIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { IActions, matches, Paged, RowIcon, Section } from './components';
import { DeployModel } from './model';
import { IService } from './types';

/** What the page may show of a key: enough to tell two apart, not to use one. */
export function maskKey(key: string): string {
  return '••••••••' + key.slice(-4);
}

export function ServiceList(props: {
  model: DeployModel;
  actions: IActions;
  filter: string;
}): JSX.Element {
  const { model, actions, filter } = props;
  const items = model.services.filter(s =>
    matches(filter, s.name, s.target, s.state, s.image)
  );
  return (
    <Section title="Services" count={items.length} kind="services">
      {model.servicesError && (
        <div className="jp-DeploySidebar-error">
          <strong>Services not listed</strong>
          <p>{model.servicesError}</p>
        </div>
      )}
      <Paged
        items={items}
        empty={filter ? 'No service matches.' : 'No services: deploy one with %deploy.'}
        render={s => <ServiceRow key={`${s.target}/${s.name}`} service={s} actions={actions} />}
      />
    </Section>
  );
}

function ServiceRowView(props: { service: IService; actions: IActions }): JSX.Element {
  const { service: s, actions } = props;
  const cluster = s.target !== 'local';
  const [healthy, desired] = s.replicas.split('/');
  return (
    <li
      className="jp-DeployService-row jp-DeployRow"
      data-name={s.name}
      data-target={s.target}
      data-state={s.state}
      title={`${s.name} on ${s.target}: ${s.state}\n${s.image}\n${s.scoring_uri ?? ''}`}
    >
      <div className="jp-DeployRow-main">
        <span className={`jp-DeployState jp-DeployServiceState-${s.state}`} />
        <span className="jp-DeployRow-name">{s.name}</span>
        {s.auth && (
          <span className="jp-DeployService-lock" title="asks for a key (Authorization: Bearer)">
            <lockIcon.react tag="span" />
          </span>
        )}
        <span className="jp-DeployBadge jp-DeployService-target">{s.target}</span>
        <span
          className="jp-DeployService-replicas"
          title={`${healthy} of ${desired} replicas healthy`}
        >
          {s.replicas}
        </span>
        {s.port && <span className="jp-DeployRow-port">:{s.port}</span>}
        <span className="jp-DeployRow-icons">
          {cluster && (
            <RowIcon
              kind="scale"
              label="Scale…"
              icon={numberingIcon}
              onClick={() => void actions.scale(s)}
            />
          )}
          {s.auth && (
            <RowIcon
              kind="copy-key"
              label="Copy the primary key"
              icon={copyIcon}
              onClick={() => void actions.copyKey(s)}
            />
          )}
          <RowIcon
            kind="snippet"
            label="Copy a scoring snippet"
            icon={codeIcon}
            onClick={() => actions.copyServiceSnippet(s)}
          />
        </span>
      </div>
    </li>
  );
}

/** A row draws again only when what the server says about its service changed. */
const ServiceRow = React.memo(
  ServiceRowView,
  (before, after) =>
    before.actions === after.actions &&
    JSON.stringify(before.service) === JSON.stringify(after.service)
);
