/**
 * The `jupyter-deploy` JupyterLab plugin: the sidebar, its commands and its actions.
 *
 * Actions that destroy or interrupt something (stop, remove, restart) ask first; every action
 * reports its outcome as a notification. Commands are in the palette under "Deploy".
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Clipboard,
  Dialog,
  ICommandPalette,
  InputDialog,
  Notification,
  showDialog
} from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { LabIcon } from '@jupyterlab/ui-components';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import { Menu } from '@lumino/widgets';

import { baseImageLine } from './baseImages';
import { formatSize, IActions } from './components';
import { createLogViewer } from './logs';
import { ContainerAction, DEFAULT_INTERVAL, DeployModel, describe } from './model';
import { maskKey } from './services';
import { DeploySidebar, SIDEBAR_ID } from './sidebar';
import { IBaseImage, IContainer, IPullJob, IService } from './types';

const deployIcon = new LabIcon({
  name: 'jupyter-deploy:containers',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24">' +
    '<g class="jp-icon3" fill="#616161"><path d="M3 9h4v4H3zM8 9h4v4H8zM13 9h4v4h-4zM8 4h4v4H8z' +
    'M1 14h21c0 4-4 6-9 6H6c-3 0-5-2-5-6z"/></g></svg>'
});

namespace CommandIDs {
  export const open = 'jupyter-deploy:open';
  export const refresh = 'jupyter-deploy:refresh';
  export const pull = 'jupyter-deploy:pull-image';
  export const logs = 'jupyter-deploy:show-logs';
}

/** The container context menu's commands, in the order the menu shows them. */
const CONTAINER_MENU = [
  'jupyter-deploy:container-logs',
  'jupyter-deploy:container-stats',
  'jupyter-deploy:container-open',
  'jupyter-deploy:container-snippet',
  'jupyter-deploy:container-restart',
  'jupyter-deploy:container-stop',
  'jupyter-deploy:container-remove'
];

const VERBS: Record<ContainerAction, [string, string]> = {
  stop: ['Stop', 'stopped'],
  restart: ['Restart', 'restarted'],
  remove: ['Remove', 'removed']
};

/**
 * Pull in the background, with one notification that shows the progress and offers Cancel,
 * then says how it ended.
 */
async function followPull(model: DeployModel, reference: string): Promise<void> {
  let job: IPullJob;
  try {
    job = await model.startPull(reference);
  } catch (error) {
    Notification.error(describe(error).message, { autoClose: 8000 });
    return;
  }
  const id = Notification.emit(`Pulling ${reference}…`, 'in-progress', {
    autoClose: false,
    progress: 0,
    actions: [
      {
        label: 'Cancel',
        caption: `Stop pulling ${reference}`,
        callback: event => {
          event.preventDefault();
          void model.cancelPull(job.id);
        }
      }
    ]
  });
  while (job.state === 'running') {
    await new Promise(resolve => setTimeout(resolve, 500));
    try {
      job = await model.pullJob(job.id);
    } catch (error) {
      Notification.update({ id, message: describe(error).message, type: 'error' });
      return;
    }
    if (job.state === 'running') {
      Notification.update({
        id,
        message: `Pulling ${reference}: ${job.progress}`,
        progress: job.fraction
      });
    }
  }
  const outcome: Record<string, [string, Notification.TypeOptions]> = {
    done: [job.status || `Pulled ${reference}.`, 'success'],
    cancelled: [`Pull of ${reference} cancelled.`, 'info'],
    failed: [job.message, 'error']
  };
  const [message, type] = outcome[job.state];
  Notification.update({ id, message, type, autoClose: 5000, actions: [] });
}

/** The second question for a container jupyter_deploy did not make: it may be someone else's. */
async function confirmNotOurs(container: IContainer, verb: string): Promise<boolean> {
  const answer = await showDialog({
    title: `${container.name} is not ours`,
    body:
      `${container.name} (${container.image}) was not made by jupyter_deploy: it may belong ` +
      `to another tool or another person. ${verb} it anyway?`,
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: `${verb} anyway` })]
  });
  return answer.button.accept;
}

/** Put `text` in the system clipboard: the asynchronous API, else the copy command. */
async function copyToClipboard(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    Clipboard.copyToSystem(text);
  }
}

/** Ask for a replica count (the desired one to start with) and scale to it. */
async function scaleService(model: DeployModel, service: IService): Promise<void> {
  const desired = Number(service.replicas.split('/')[1]) || 1;
  const answer = await InputDialog.getNumber({
    title: `Scale ${service.name}`,
    label: `Replicas of ${service.name} on ${service.target} (now ${service.replicas} healthy)`,
    value: desired
  });
  if (!answer.button.accept || answer.value === null || Number.isNaN(answer.value)) {
    return;
  }
  try {
    await model.scale(service.name, answer.value);
    Notification.success(`${service.name}: scaling to ${answer.value} replica(s).`, {
      autoClose: 3000
    });
  } catch (error) {
    Notification.error(describe(error).message, { autoClose: 8000 });
  }
}

/** Copy a service's primary key: fetched, put in the clipboard, and only its mask shown. */
async function copyKey(model: DeployModel, service: IService): Promise<void> {
  try {
    const keys = await model.keys(service.name);
    await copyToClipboard(keys.primary_key);
    Notification.info(
      `Primary key of ${service.name} (${maskKey(keys.primary_key)}) copied: send it as ` +
        "'Authorization: Bearer <key>'.",
      { autoClose: 4000 }
    );
  } catch (error) {
    Notification.error(describe(error).message, { autoClose: 8000 });
  }
}

function makeActions(app: JupyterFrontEnd, model: DeployModel): IActions {
  return {
    async act(container: IContainer, action: ContainerAction): Promise<void> {
      const [verb, done] = VERBS[action];
      const answer = await showDialog({
        title: `${verb} ${container.name}?`,
        body:
          action === 'remove'
            ? `The container ${container.name} and its log will be deleted.`
            : `${verb} the container ${container.name} (${container.image}).`,
        buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: verb })]
      });
      if (!answer.button.accept) {
        return;
      }
      if (!container.ours && !(await confirmNotOurs(container, verb))) {
        return;
      }
      try {
        await model.act(container.id, action, !container.ours);
        Notification.success(`${container.name} ${done}.`, { autoClose: 3000 });
      } catch (error) {
        Notification.error(describe(error).message, { autoClose: 8000 });
      }
    },
    showLogs(container: IContainer): void {
      void app.commands.execute(CommandIDs.logs, { id: container.id, name: container.name });
    },
    async showStats(container: IContainer): Promise<void> {
      try {
        const stats = await model.stats(container.id);
        const cpu = stats.cpu_percent === null ? '' : ` · CPU ${stats.cpu_percent}%`;
        Notification.info(
          `${container.name}: memory ${formatSize(stats.memory_bytes)}${cpu}`,
          { autoClose: 5000 }
        );
      } catch (error) {
        Notification.error(describe(error).message, { autoClose: 8000 });
      }
    },
    openMenu(container: IContainer, x: number, y: number): void {
      const menu = new Menu({ commands: app.commands });
      menu.addClass('jp-DeployMenu');
      for (const command of CONTAINER_MENU) {
        menu.addItem({ command, args: { id: container.id } });
      }
      menu.open(x, y);
    },
    copySnippet(container: IContainer): void {
      Clipboard.copyToSystem(container.snippet ?? '');
      Notification.info(`Snippet to score ${container.service} copied.`, { autoClose: 3000 });
    },
    async pull(reference: string): Promise<void> {
      await followPull(model, reference);
    },
    scale: (service: IService) => scaleService(model, service),
    copyKey: (service: IService) => copyKey(model, service),
    copyServiceSnippet(service: IService): void {
      void copyToClipboard(service.snippet);
      Notification.info(`Snippet to score ${service.name} copied (it sends the key itself).`, {
        autoClose: 3000
      });
    },
    copyBaseImage(image: IBaseImage): void {
      void copyToClipboard(baseImageLine(image));
      Notification.info(
        `Copied: ${baseImageLine(image)} (built offline as ${image.image} when first used).`,
        { autoClose: 4000 }
      );
    },
    buildBaseImage: (image: IBaseImage) => buildBaseImage(model, image)
  };
}

/** Build a prebuilt base image, saying when it starts and how it ended. */
async function buildBaseImage(model: DeployModel, image: IBaseImage): Promise<void> {
  Notification.info(`Building the base image ${image.name} (${image.size}) …`, {
    autoClose: 4000
  });
  try {
    const row = await model.buildBaseImage(image.name);
    Notification.success(`Base image ${row.name} built: ${row.image} (${row.size}).`, {
      autoClose: 5000
    });
  } catch (error) {
    Notification.error(describe(error).message, { autoClose: 10000 });
  }
}

function addCommands(app: JupyterFrontEnd, model: DeployModel, panel: DeploySidebar): void {
  app.commands.addCommand(CommandIDs.open, {
    label: 'Deploy: Show Services, Images and Containers',
    execute: () => {
      app.shell.activateById(SIDEBAR_ID);
      panel.focusSearch();
    }
  });
  app.commands.addCommand(CommandIDs.refresh, {
    label: 'Deploy: Refresh Images and Containers',
    icon: deployIcon,
    execute: () => model.refreshNow()
  });
  app.commands.addCommand(CommandIDs.pull, {
    label: 'Deploy: Pull an Image…',
    execute: async () => {
      const answer = await InputDialog.getText({
        title: 'Pull an image',
        placeholder: '127.0.0.1:5000/repository:tag'
      });
      if (answer.button.accept && answer.value) {
        await makeActions(app, model).pull(answer.value.trim());
      }
    }
  });
  app.commands.addCommand(CommandIDs.logs, {
    label: 'Deploy: Show Container Logs',
    execute: args => {
      const id = String(args.id ?? '');
      const widget = createLogViewer(model, id, String(args.name ?? id));
      app.shell.add(widget, 'main');
      app.shell.activateById(widget.id);
    }
  });
}

/** Every action on one container, as commands the context menu lists (args: `{id}`). */
function addContainerCommands(app: JupyterFrontEnd, model: DeployModel, actions: IActions): void {
  const find = (args: ReadonlyPartialJSONObject): IContainer | undefined =>
    model.containers.find(c => c.id === args.id);
  const running = (args: ReadonlyPartialJSONObject) => find(args)?.state === 'running';
  const add = (
    id: string,
    label: string | ((args: ReadonlyPartialJSONObject) => string),
    run: (c: IContainer) => unknown,
    isVisible: (args: ReadonlyPartialJSONObject) => boolean = args => !!find(args)
  ): void => {
    app.commands.addCommand(id, {
      label,
      isVisible,
      execute: args => {
        const container = find(args);
        return container ? run(container) : undefined;
      }
    });
  };
  const [logs, stats, open, snippet, restart, stop, remove] = CONTAINER_MENU;
  add(logs, 'Show Logs', c => actions.showLogs(c));
  add(stats, 'Memory and CPU', c => actions.showStats(c), running);
  add(
    open,
    'Open in a Browser Tab',
    c => window.open(c.scoring_uri?.replace(/\/score$/, '/'), '_blank', 'noopener'),
    args => running(args) && !!find(args)?.scoring_uri
  );
  add(snippet, 'Copy a Scoring Snippet', c => actions.copySnippet(c), args => !!find(args)?.snippet);
  add(restart, args => (running(args) ? 'Restart…' : 'Start…'), c => actions.act(c, 'restart'));
  add(stop, 'Stop…', c => actions.act(c, 'stop'), running);
  add(remove, 'Remove…', c => actions.act(c, 'remove'));
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-deploy:sidebar',
  description: 'Registry images and running containers, live, with actions.',
  autoStart: true,
  optional: [ICommandPalette, ILayoutRestorer, ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    settings: ISettingRegistry | null
  ) => {
    const model = new DeployModel();
    const actions = makeActions(app, model);
    addContainerCommands(app, model, actions);
    const panel = new DeploySidebar(model, actions);
    const useInterval = (seconds: number): void => {
      model.interval = seconds * 1000;
      panel.node.dataset.refreshInterval = String(model.interval);
    };
    useInterval(DEFAULT_INTERVAL / 1000);
    if (settings) {
      settings
        .load(plugin.id)
        .then(loaded => {
          const apply = (): void =>
            useInterval(loaded.get('refreshInterval').composite as number);
          apply();
          loaded.changed.connect(apply);
        })
        .catch(reason => console.warn('jupyter-deploy: settings not loaded', reason));
    }
    panel.title.icon = deployIcon;
    panel.title.caption = 'Deploy: images and containers';
    app.shell.add(panel, 'left', { rank: 650 });
    restorer?.add(panel, SIDEBAR_ID);
    addCommands(app, model, panel);
    for (const command of [CommandIDs.open, CommandIDs.refresh, CommandIDs.pull]) {
      palette?.addItem({ command, category: 'Deploy' });
    }
  }
};

export default plugin;
