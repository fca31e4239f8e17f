/**
 * A log viewer in the main area: the last lines of one container's log, refreshed on demand.
 */
import { MainAreaWidget, ToolbarButton } from '@jupyterlab/apputils';
import { refreshIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { DeployModel, describe } from './model';

class LogView extends Widget {
  constructor(
    private readonly _model: DeployModel,
    private readonly _id: string
  ) {
    super();
    this.addClass('jp-DeployLogs');
    this._pre = document.createElement('pre');
    this.node.appendChild(this._pre);
  }

  async reload(): Promise<void> {
    try {
      const text = await this._model.logs(this._id);
      this._pre.textContent = text || '(the log is empty)';
      this._pre.classList.remove('jp-DeployLogs-error');
    } catch (error) {
      this._pre.textContent = describe(error).message;
      this._pre.classList.add('jp-DeployLogs-error');
    }
    this.node.scrollTop = this.node.scrollHeight;
  }

  private _pre: HTMLPreElement;
}

/** A main-area widget showing the log tail of container `id`. */
export function createLogViewer(
  model: DeployModel,
  id: string,
  name: string
): MainAreaWidget<LogView> {
  const content = new LogView(model, id);
  const widget = new MainAreaWidget({ content });
  widget.id = `jupyter-deploy-logs-${id}`;
  widget.title.label = `Logs: ${name}`;
  widget.title.closable = true;
  widget.toolbar.addItem(
    'refresh',
    new ToolbarButton({
      icon: refreshIcon,
      tooltip: 'Reload the log',
      onClick: () => void content.reload()
    })
  );
  void content.reload();
  return widget;
}
