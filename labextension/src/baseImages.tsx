/**
 * The sidebar's Base images section: the prebuilt inference images of the seeds (ONNX Runtime for
 * CPU and CUDA, the minimal one), made offline. One line each — name, built or not, size, a GPU
 * badge — with "copy the base_image line" and "build" as icons on hover; the images that cannot
 * be had are listed below with what to use instead.
 */
import { buildIcon, copyIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { IActions, matches, RowIcon, Section } from './components';
import { DeployModel } from './model';
import { IBaseImage } from './types';

/** The line a notebook puts in its environment to build on `image`. */
export function baseImageLine(image: IBaseImage): string {
  return `env.docker.base_image = "${image.stands_for[0]}"`;
}

/** The seeds' name without its registry host (the row's tooltip has the whole name). */
export function shortName(seedName: string): string {
  return seedName.slice(seedName.indexOf('/') + 1);
}

export function BaseImageList(props: {
  model: DeployModel;
  actions: IActions;
  filter: string;
}): JSX.Element {
  const { model, actions, filter } = props;
  const items = model.baseImages.filter(b =>
    matches(filter, b.name, b.inside, b.image, ...b.stands_for)
  );
  const unavailable = model.unavailableBases.filter(u => matches(filter, u.name));
  return (
    <Section title="Base images" count={items.length} kind="base-images">
      {model.baseImagesError && (
        <div className="jp-DeploySidebar-error">
          <strong>Base images not listed</strong>
          <p>{model.baseImagesError}</p>
        </div>
      )}
      <ul className="jp-DeployList">
        {items.map(b => (
          <BaseImageRow
            key={b.name}
            image={b}
            building={model.building.has(b.name)}
            actions={actions}
          />
        ))}
        {unavailable.map(u => (
          <li
            key={u.name}
            className="jp-DeployBaseImage-unavailable jp-DeployRow jp-mod-foreign"
            title={`${u.reason}\n${u.instead}`}
          >
            <div className="jp-DeployRow-main">
              <span className="jp-DeployRow-name">{u.name.split('/').pop()}</span>
              <span className="jp-DeployBadge">unavailable</span>
            </div>
            <div className="jp-DeployRow-detail">{u.instead}</div>
          </li>
        ))}
      </ul>
    </Section>
  );
}

function BaseImageRow(props: {
  image: IBaseImage;
  building: boolean;
  actions: IActions;
}): JSX.Element {
  const { image: b, building, actions } = props;
  const state = building ? 'building…' : b.built ? 'built' : 'not built';
  // green when built, amber while building, the neutral grey when not built yet
  const dot = building ? 'restarting' : b.built ? 'running' : 'not-built';
  return (
    <li
      className="jp-DeployBaseImage-row jp-DeployRow"
      data-name={b.name}
      data-built={String(b.built)}
      title={`${b.inside}\nstands in for ${b.stands_for.join(', ')}\n${b.image}`}
    >
      <div className="jp-DeployRow-main">
        <span className={`jp-DeployState jp-DeployState-${dot}`} />
        <span className="jp-DeployRow-name">{b.name}</span>
        {b.gpu && (
          <span className="jp-DeployBadge" title="runs where the engine gives containers a GPU">
            GPU
          </span>
        )}
        <span className="jp-DeployRow-icons">
          <RowIcon
            kind="copy-base-image"
            label={`Copy: ${baseImageLine(b)}`}
            icon={copyIcon}
            onClick={() => actions.copyBaseImage(b)}
          />
          {!b.built && !building && (
            <RowIcon
              kind="build"
              label="Build it now (offline: Debian packages and PyPI wheels)"
              icon={buildIcon}
              onClick={() => void actions.buildBaseImage(b)}
            />
          )}
        </span>
      </div>
      <div className="jp-DeployRow-detail">
        {state} · {b.size} · for {shortName(b.stands_for[0])}
      </div>
    </li>
  );
}
