// A small stand-in for the `vscode` module, enough to activate the extension in a unit test
// (vi.mock("vscode", () => fake)). It records what the extension registers and shows.
type Listener<T> = (value: T) => unknown;

export class EventEmitter<T> {
  private readonly listeners = new Set<Listener<T>>();
  readonly event = (listener: Listener<T>): { dispose(): void } => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };
  fire(value: T): void {
    for (const listener of [...this.listeners]) listener(value);
  }
  dispose(): void {
    this.listeners.clear();
  }
}

export class LanguageModelTextPart {
  constructor(readonly value: string) {}
}
export class LanguageModelToolCallPart {
  constructor(
    readonly callId: string,
    readonly name: string,
    readonly input: object,
  ) {}
}
export class LanguageModelToolResultPart {
  constructor(
    readonly callId: string,
    readonly content: unknown[],
  ) {}
}

export class ThemeColor {
  constructor(readonly id: string) {}
}
export class MarkdownString {
  isTrusted = false;
  constructor(
    readonly value: string,
    readonly supportThemeIcons = false,
  ) {}
}

export interface FakeUri {
  fsPath: string;
  toString(): string;
}
const uri = (fsPath: string): FakeUri => ({ fsPath, toString: () => `https://webview.test${fsPath}` });

export interface FakeWebview {
  html: string;
  options: unknown;
  cspSource: string;
  posted: unknown[];
  asWebviewUri(value: FakeUri): FakeUri;
  postMessage(message: unknown): Promise<boolean>;
  onDidReceiveMessage: EventEmitter<unknown>["event"];
  /** Test side: what the page would post. */
  receive(message: unknown): void;
}

function webview(): FakeWebview {
  const incoming = new EventEmitter<unknown>();
  const view: FakeWebview = {
    html: "",
    options: {},
    cspSource: "https://webview.test",
    posted: [],
    asWebviewUri: (value) => value,
    postMessage: async (message) => {
      view.posted.push(message);
      return true;
    },
    onDidReceiveMessage: incoming.event,
    receive: (message) => incoming.fire(message),
  };
  return view;
}

export interface FakeStatusBarItem {
  id: string;
  alignment: number;
  priority: number;
  name?: string;
  text: string;
  tooltip?: MarkdownString;
  command?: string;
  backgroundColor?: ThemeColor;
  accessibilityInformation?: { label: string; role?: string };
  visible: boolean;
  show(): void;
  dispose(): void;
}

export function createFakeVscode(settings: Record<string, unknown> = {}) {
  const commands = new Map<string, (...args: unknown[]) => unknown>();
  const statusBarItems: FakeStatusBarItem[] = [];
  const panels: Array<{ viewType: string; title: string; webview: FakeWebview; visible: boolean; disposed: boolean }> = [];
  const messages: Array<{ level: string; text: string }> = [];
  const logLines: string[] = [];
  const viewProviders = new Map<string, unknown>();
  const lmProviders = new Map<string, unknown>();
  let clipboard = "";

  const channel = {
    trace: (m: string) => logLines.push(`trace ${m}`),
    debug: (m: string) => logLines.push(`debug ${m}`),
    info: (m: string) => logLines.push(`info ${m}`),
    warn: (m: string) => logLines.push(`warn ${m}`),
    error: (m: string) => logLines.push(`error ${m}`),
    show: () => undefined,
    dispose: () => undefined,
  };

  const fake = {
    EventEmitter,
    LanguageModelTextPart,
    LanguageModelToolCallPart,
    LanguageModelToolResultPart,
    LanguageModelChatMessageRole: { User: 1, Assistant: 2 },
    LanguageModelChatToolMode: { Auto: 1, Required: 2 },
    Disposable: { from: (...items: Array<{ dispose(): unknown }>) => ({ dispose: () => items.forEach((item) => item.dispose()) }) },
    lm: {
      registerLanguageModelChatProvider: (vendor: string, provider: unknown) => {
        lmProviders.set(vendor, provider);
        return { dispose: () => lmProviders.delete(vendor) };
      },
    },
    ThemeColor,
    MarkdownString,
    StatusBarAlignment: { Left: 1, Right: 2 },
    ViewColumn: { Active: -1 },
    QuickPickItemKind: { Separator: -1, Default: 0 },
    ProgressLocation: { Notification: 15 },
    Uri: { joinPath: (base: FakeUri, ...parts: string[]) => uri([base.fsPath, ...parts].join("/")), file: (path: string) => uri(path) },
    window: {
      createOutputChannel: () => channel,
      createStatusBarItem: (id: string, alignment: number, priority: number) => {
        const item: FakeStatusBarItem = { id, alignment, priority, text: "", visible: false, show: () => (item.visible = true), dispose: () => (item.visible = false) };
        statusBarItems.push(item);
        return item;
      },
      registerWebviewViewProvider: (id: string, provider: unknown) => {
        viewProviders.set(id, provider);
        return { dispose: () => viewProviders.delete(id) };
      },
      createWebviewPanel: (viewType: string, title: string) => {
        const disposeEmitter = new EventEmitter<void>();
        const panel = {
          viewType,
          title,
          webview: webview(),
          visible: true,
          disposed: false,
          iconPath: undefined as unknown,
          reveal: () => undefined,
          onDidChangeViewState: new EventEmitter<void>().event,
          onDidDispose: disposeEmitter.event,
          dispose: () => {
            panel.disposed = true;
            disposeEmitter.fire();
          },
        };
        panels.push(panel);
        return panel;
      },
      showInformationMessage: async (text: string) => void messages.push({ level: "info", text }),
      showWarningMessage: async (text: string) => void messages.push({ level: "warning", text }),
      showErrorMessage: async (text: string) => void messages.push({ level: "error", text }),
      withProgress: async <T>(_options: unknown, task: () => Promise<T>) => task(),
      showInputBox: async () => undefined as string | undefined,
    },
    workspace: {
      getConfiguration: () => ({ get: <T>(key: string, fallback?: T) => (key in settings ? settings[key] : fallback) as T }),
      workspaceFolders: undefined as Array<{ name: string; uri: FakeUri }> | undefined,
      onDidChangeConfiguration: () => ({ dispose: () => undefined }),
    },
    commands: {
      registerCommand: (id: string, run: (...args: unknown[]) => unknown) => {
        commands.set(id, run);
        return { dispose: () => commands.delete(id) };
      },
      executeCommand: async (id: string, ...args: unknown[]) => commands.get(id)?.(...args),
    },
    env: { clipboard: { writeText: async (text: string) => void (clipboard = text), readText: async () => clipboard } },
  };
  return { fake, commands, statusBarItems, panels, messages, logLines, viewProviders, lmProviders, uri };
}

export function fakeSecrets() {
  const values = new Map<string, string>();
  const changed = new EventEmitter<{ key: string }>();
  return {
    values,
    get: async (key: string) => values.get(key),
    store: async (key: string, value: string) => {
      values.set(key, value);
      changed.fire({ key });
    },
    delete: async (key: string) => {
      values.delete(key);
      changed.fire({ key });
    },
    onDidChange: changed.event,
  };
}
