/**
 * The sidebar's state and the only code that talks to the server.
 *
 * It polls with backoff (`@lumino/polling`) and goes on standby while the panel is hidden or
 * the page is in the background, so an idle sidebar costs nothing. Repositories come with their
 * registry; tags load only when a repository is opened. Views listen to `changed`.
 */
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { DeployRequestError, requestAPI, segment } from './request';
import {
  IBaseImage,
  IBaseImageList,
  IContainer,
  ILocalImage,
  IPullJob,
  IRegistryState,
  IRepositoryPage,
  IService,
  IServiceKeys,
  ISettings,
  IStats,
  ITagList,
  ITagState,
  IUnavailableBase
} from './types';

/** What went wrong with the last refresh, shown instead of the lists. */
export interface IProblem {
  title: string;
  message: string;
  detail?: string;
}

export type ContainerAction = 'stop' | 'remove' | 'restart';

/** The default refresh interval (ms); users change it in the settings (`refreshInterval`). */
export const DEFAULT_INTERVAL = 5000;

export class DeployModel {
  constructor(interval = DEFAULT_INTERVAL) {
    this._poll = new Poll({
      factory: () => this.refresh(),
      frequency: DeployModel.frequency(interval),
      standby: () => (this._visible ? 'when-hidden' : true),
      name: 'jupyter-deploy:model'
    });
  }

  /** How often to poll: `interval` ms, backing off after errors to a minute (or `interval`). */
  static frequency(interval: number): { interval: number; backoff: boolean; max: number } {
    return { interval, backoff: true, max: Math.max(60 * 1000, interval) };
  }

  /** The refresh interval in ms. */
  get interval(): number {
    return this._poll.frequency.interval;
  }
  set interval(interval: number) {
    if (interval !== this.interval) {
      this._poll.frequency = DeployModel.frequency(interval);
    }
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }
  get settings(): ISettings | null {
    return this._settings;
  }
  get problem(): IProblem | null {
    return this._problem;
  }
  get containers(): IContainer[] {
    return this._containers;
  }
  get services(): IService[] {
    return this._services;
  }
  /** Why the services could not be listed (the containers may still be). */
  get servicesError(): string | null {
    return this._servicesError;
  }
  get images(): ILocalImage[] {
    return this._images;
  }
  /** The prebuilt inference base images, and the seeds' ones that cannot be had. */
  get baseImages(): IBaseImage[] {
    return this._baseImages;
  }
  get unavailableBases(): IUnavailableBase[] {
    return this._unavailableBases;
  }
  /** Why the base images could not be listed (the rest of the panel still is). */
  get baseImagesError(): string | null {
    return this._baseImagesError;
  }
  /** Names of the base images being built from this page. */
  get building(): ReadonlySet<string> {
    return this._building;
  }
  get registries(): IRegistryState[] {
    return this._registries;
  }
  get loaded(): boolean {
    return this._refreshes > 0;
  }
  /** How many refreshes have finished, and how long the last one took (ms). */
  get refreshes(): number {
    return this._refreshes;
  }
  get lastRefreshMs(): number {
    return this._lastRefreshMs;
  }
  get isDisposed(): boolean {
    return this._poll.isDisposed;
  }

  /** The panel became visible (polling resumes) or hidden (polling stands by). */
  setVisible(visible: boolean): void {
    this._visible = visible;
    if (visible) {
      void this._poll.refresh();
    }
  }

  /** Refresh now (the refresh button, or after an action). */
  async refreshNow(): Promise<void> {
    await this._poll.refresh();
    await this._poll.tick;
  }

  /** Ask the server for everything the panel shows; rejects (so polling backs off) on error. */
  async refresh(): Promise<void> {
    const started = performance.now();
    try {
      const settings = await requestAPI<ISettings>('settings');
      this._settings = settings;
      if (!settings.engine.reachable) {
        this._setEngineDown(settings);
        this._registries = await this._loadRegistries(settings);
      } else {
        await this._loadAll(settings);
        this._problem = null;
      }
    } catch (error) {
      this._problem = describe(error);
    } finally {
      this._refreshes += 1;
      this._lastRefreshMs = performance.now() - started;
      this._changed.emit();
    }
    if (this._problem) {
      throw new Error(this._problem.message);
    }
  }

  /** The tags of a repository as last loaded (undefined: never asked). */
  tagState(address: string, repository: string): ITagState | undefined {
    return this._tags.get(`${address}/${repository}`);
  }

  /** Load (or reload) a repository's tags. */
  async loadTags(address: string, repository: string): Promise<void> {
    const key = `${address}/${repository}`;
    const previous = this._tags.get(key);
    this._tags.set(key, { loading: true, tags: previous?.tags ?? [], error: null });
    this._changed.emit();
    try {
      const path = `registries/${segment(address)}/repositories/${segment(repository)}/tags`;
      const answer = await requestAPI<ITagList>(path);
      this._tags.set(key, { loading: false, tags: answer.tags, error: null });
    } catch (error) {
      this._tags.set(key, { loading: false, tags: [], error: describe(error).message });
    }
    this._changed.emit();
  }

  /**
   * Stop, restart or remove a container, then refresh. The server refuses (409) to touch a
   * container this project did not make unless `notOurs` says the user confirmed it.
   */
  async act(id: string, action: ContainerAction, notOurs = false): Promise<void> {
    await requestAPI(`containers/${segment(id)}/${action}`, {
      method: 'POST',
      body: JSON.stringify({ not_ours: notOurs })
    });
    await this.refreshNow();
  }

  /** Run `replicas` copies of a cluster service, then refresh. */
  async scale(name: string, replicas: number): Promise<IService> {
    const answer = await requestAPI<IService>(`services/${segment(name)}/scale`, {
      method: 'POST',
      body: JSON.stringify({ replicas })
    });
    void this.refreshNow();
    return answer;
  }

  /** A service's keys, for the clipboard only: callers must never put them on the page. */
  async keys(name: string): Promise<IServiceKeys> {
    return requestAPI<IServiceKeys>(`services/${segment(name)}/keys`);
  }

  /** Start pulling an image in the background; poll `pullJob` for its progress. */
  async startPull(reference: string): Promise<IPullJob> {
    return requestAPI<IPullJob>('images/pulls', {
      method: 'POST',
      body: JSON.stringify({ reference })
    });
  }

  /** A pull's progress and outcome; refreshes the lists once it ended well. */
  async pullJob(id: string): Promise<IPullJob> {
    const job = await requestAPI<IPullJob>(`images/pulls/${segment(id)}`);
    if (job.state === 'done') {
      void this.refreshNow();
    }
    return job;
  }

  /** Cancel a pull; resolves with its last state. */
  async cancelPull(id: string): Promise<IPullJob> {
    return requestAPI<IPullJob>(`images/pulls/${segment(id)}`, { method: 'DELETE' });
  }

  /** Pull an image into the engine; resolves with the engine's status line. */
  async pull(reference: string): Promise<string> {
    const answer = await requestAPI<{ status: string }>('images/pull', {
      method: 'POST',
      body: JSON.stringify({ reference })
    });
    void this.refreshNow();
    return answer.status;
  }

  /** Build a prebuilt base image (minutes for the CUDA one); resolves with its new row. */
  async buildBaseImage(name: string): Promise<IBaseImage> {
    this._building.add(name);
    this._changed.emit();
    try {
      return await requestAPI<IBaseImage>(`base-images/${segment(name)}/build`, {
        method: 'POST',
        body: '{}'
      });
    } finally {
      this._building.delete(name);
      void this.refreshNow();
    }
  }

  /** Memory (and CPU when the engine has a previous sample) of one container. */
  async stats(id: string): Promise<IStats> {
    return requestAPI<IStats>(`containers/${segment(id)}/stats`);
  }

  /** The last `lines` lines of a container's log. */
  async logs(id: string, lines = 500): Promise<string> {
    const answer = await requestAPI<{ logs: string }>(
      `containers/${segment(id)}/logs?lines=${lines}`
    );
    return answer.logs;
  }

  dispose(): void {
    this._poll.dispose();
    Signal.clearData(this);
  }

  private async _loadAll(settings: ISettings): Promise<void> {
    const [containers, services, images, registries] = await Promise.all([
      requestAPI<IContainer[]>('containers'),
      this._loadServices(),
      requestAPI<ILocalImage[]>('images'),
      this._loadRegistries(settings),
      this._loadBaseImages()
    ]);
    this._containers = containers;
    this._services = services;
    this._images = images;
    this._registries = registries;
  }

  /** The base images' rows, or none and the reason (kept apart from the other lists). */
  private async _loadBaseImages(): Promise<void> {
    try {
      const answer = await requestAPI<IBaseImageList>('base-images');
      this._baseImages = answer.images;
      this._unavailableBases = answer.unavailable;
      this._baseImagesError = null;
    } catch (error) {
      this._baseImagesError = describe(error).message;
    }
  }

  /** The services, or none and the reason (a swarm that does not answer hides no container). */
  private async _loadServices(): Promise<IService[]> {
    try {
      const services = await requestAPI<IService[]>('services');
      this._servicesError = null;
      return services;
    } catch (error) {
      this._servicesError = describe(error).message;
      return [];
    }
  }

  private _loadRegistries(settings: ISettings): Promise<IRegistryState[]> {
    return Promise.all(settings.registries.map(r => this._loadRegistry(r)));
  }

  private async _loadRegistry(
    registry: ISettings['registries'][number]
  ): Promise<IRegistryState> {
    if (!registry.reachable) {
      return { ...registry, repositories: null, loadError: registry.error };
    }
    try {
      const page = await requestAPI<IRepositoryPage>(
        `registries/${segment(registry.address)}/repositories`
      );
      return { ...registry, repositories: page.repositories, loadError: null };
    } catch (error) {
      return { ...registry, repositories: null, loadError: describe(error).message };
    }
  }

  private _setEngineDown(settings: ISettings): void {
    this._containers = [];
    this._services = [];
    this._images = [];
    this._problem = {
      title: 'Docker engine not reachable',
      message: settings.engine.error ?? 'No Docker engine answers.',
      detail: (settings.engine.error ?? '').includes(settings.engine.how_to_start)
        ? undefined
        : settings.engine.how_to_start
    };
  }

  private _changed = new Signal<this, void>(this);
  private _poll: Poll;
  private _visible = false;
  private _settings: ISettings | null = null;
  private _problem: IProblem | null = null;
  private _containers: IContainer[] = [];
  private _services: IService[] = [];
  private _servicesError: string | null = null;
  private _images: ILocalImage[] = [];
  private _baseImages: IBaseImage[] = [];
  private _unavailableBases: IUnavailableBase[] = [];
  private _baseImagesError: string | null = null;
  private _building = new Set<string>();
  private _registries: IRegistryState[] = [];
  private _tags = new Map<string, ITagState>();
  private _refreshes = 0;
  private _lastRefreshMs = 0;
}

/** A user-facing description of any error a request can throw. */
export function describe(error: unknown): IProblem {
  if (error instanceof DeployRequestError) {
    if (error.extensionMissing) {
      return { title: 'Server extension missing', message: error.message };
    }
    if (error.status === 503) {
      return { title: 'Docker engine not reachable', message: error.message };
    }
    return { title: `Request failed (${error.status})`, message: error.message };
  }
  return { title: 'Unexpected error', message: String(error) };
}
