/**
 * The left-sidebar panel: a search box, then services, containers, local images and registries.
 *
 * A thin React view over `DeployModel`: it re-renders on `model.changed`, pages long lists
 * (100 rows at a time) so 1,000 repositories or 100 containers stay cheap to draw, and asks for
 * confirmation before anything destructive. The panel tells the model when it is shown or hidden,
 * which is what starts and stops polling.
 */
import { Notification } from '@jupyterlab/apputils';
import { ReactWidget, refreshIcon, UseSignal } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import * as React from 'react';

import { BaseImageList } from './baseImages';
import { ContainerList, ImageList, RegistryList, IActions } from './components';
import { DeployModel } from './model';
import { ServiceList } from './services';

export const SIDEBAR_ID = 'jupyter-deploy-sidebar';

export class DeploySidebar extends ReactWidget {
  constructor(
    readonly model: DeployModel,
    private readonly _actions: IActions
  ) {
    super();
    this.id = SIDEBAR_ID;
    this.addClass('jp-DeploySidebar');
    this.model.changed.connect(this._stamp, this);
  }

  /** Focus the search box. */
  focusSearch(): void {
    this.node.querySelector<HTMLInputElement>('.jp-DeploySidebar-search')?.focus();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this.model.setVisible(true);
  }

  protected onAfterHide(msg: Message): void {
    super.onAfterHide(msg);
    this.model.setVisible(false);
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this.model.setVisible(this.isVisible);
  }

  protected render(): JSX.Element {
    return (
      <UseSignal signal={this.model.changed}>
        {() => <Panel model={this.model} actions={this._actions} />}
      </UseSignal>
    );
  }

  /** Expose refresh progress on the node (for tests and for a curious user's devtools). */
  private _stamp(): void {
    this.node.dataset.refreshes = String(this.model.refreshes);
    this.node.dataset.lastRefreshMs = this.model.lastRefreshMs.toFixed(0);
  }
}

function Panel(props: { model: DeployModel; actions: IActions }): JSX.Element {
  const { model, actions } = props;
  const [query, setQuery] = React.useState('');
  const [busy, setBusy] = React.useState(false);
  const refresh = async () => {
    setBusy(true);
    try {
      await model.refreshNow();
    } catch (error) {
      Notification.error(String(error), { autoClose: 5000 });
    } finally {
      setBusy(false);
    }
  };
  const filter = query.trim().toLowerCase();
  return (
    <div className="jp-DeploySidebar-panel">
      <header className="jp-DeploySidebar-header">
        <h2>Deploy</h2>
        <span className="jp-DeploySidebar-version">
          {model.settings ? `v${model.settings.version}` : ''}
          {model.settings?.engine.version
            ? ` · engine ${model.settings.engine.version}`
            : ''}
        </span>
        <button
          className="jp-DeploySidebar-refresh jp-Button jp-mod-minimal"
          title="Refresh now"
          disabled={busy}
          onClick={() => void refresh()}
        >
          <refreshIcon.react tag="span" />
        </button>
      </header>
      <input
        className="jp-DeploySidebar-search jp-InputGroup"
        type="search"
        placeholder="Filter services, containers, images, repositories…"
        value={query}
        onChange={e => setQuery(e.target.value)}
      />
      <Body model={model} actions={actions} filter={filter} />
    </div>
  );
}

function Body(props: {
  model: DeployModel;
  actions: IActions;
  filter: string;
}): JSX.Element {
  const { model, actions, filter } = props;
  if (!model.loaded) {
    return <div className="jp-DeploySidebar-empty">Loading…</div>;
  }
  const problem = model.problem;
  const engineDown = problem !== null && model.settings?.engine.reachable === false;
  return (
    <div className="jp-DeploySidebar-body">
      {problem && (
        <div className="jp-DeploySidebar-error" role="alert">
          <strong>{problem.title}</strong>
          <p>{problem.message}</p>
          {problem.detail && <p className="jp-DeploySidebar-hint">{problem.detail}</p>}
        </div>
      )}
      {!engineDown && problem === null && (
        <>
          <ServiceList model={model} actions={actions} filter={filter} />
          <ContainerList model={model} actions={actions} filter={filter} />
          <ImageList model={model} filter={filter} />
          <BaseImageList model={model} actions={actions} filter={filter} />
        </>
      )}
      {model.settings && problem?.title !== 'Server extension missing' && (
        <RegistryList model={model} actions={actions} filter={filter} />
      )}
    </div>
  );
}
