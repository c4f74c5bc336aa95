// The CSS variables VS Code sets on a webview's <html> (the ones the graph uses), for three built-in themes, and the
// class it puts on <body>. Values from VS Code 1.100's Dark Modern, Light Modern and Dark High Contrast themes.

export interface Theme {
  name: string;
  bodyClass: string;
  vars: Record<string, string>;
}

const FONT = {
  '--vscode-font-family': 'system-ui, "Ubuntu", "Droid Sans", sans-serif',
  '--vscode-font-size': '13px',
  '--vscode-editor-font-family': '"Droid Sans Mono", "monospace", monospace',
};

export const DARK: Theme = {
  name: 'dark',
  bodyClass: 'vscode-dark',
  vars: {
    ...FONT,
    '--vscode-editor-background': '#1f1f1f',
    '--vscode-editor-foreground': '#cccccc',
    '--vscode-foreground': '#cccccc',
    '--vscode-descriptionForeground': '#9d9d9d',
    '--vscode-panel-border': '#2b2b2b',
    '--vscode-editorWidget-border': '#454545',
    '--vscode-focusBorder': '#0078d4',
    '--vscode-charts-orange': '#d18616',
    '--vscode-charts-blue': '#3794ff',
    '--vscode-charts-green': '#89d185',
    '--vscode-charts-purple': '#b180d7',
    '--vscode-charts-yellow': '#cca700',
    '--vscode-button-background': '#0078d4',
    '--vscode-button-foreground': '#ffffff',
    '--vscode-button-secondaryBackground': '#313131',
    '--vscode-button-secondaryForeground': '#cccccc',
    '--vscode-button-secondaryHoverBackground': '#3c3c3c',
    '--vscode-editorHoverWidget-background': '#202020',
    '--vscode-editorHoverWidget-foreground': '#cccccc',
    '--vscode-editorHoverWidget-border': '#454545',
    '--vscode-errorForeground': '#f85149',
    '--vscode-editorWarning-foreground': '#cca700',
    '--vscode-widget-shadow': 'rgba(0, 0, 0, 0.36)',
  },
};

export const LIGHT: Theme = {
  name: 'light',
  bodyClass: 'vscode-light',
  vars: {
    ...FONT,
    '--vscode-editor-background': '#ffffff',
    '--vscode-editor-foreground': '#3b3b3b',
    '--vscode-foreground': '#3b3b3b',
    '--vscode-descriptionForeground': '#3b3b3b',
    '--vscode-panel-border': '#e5e5e5',
    '--vscode-editorWidget-border': '#c8c8c8',
    '--vscode-focusBorder': '#005fb8',
    '--vscode-charts-orange': '#d18616',
    '--vscode-charts-blue': '#1a85ff',
    '--vscode-charts-green': '#388a34',
    '--vscode-charts-purple': '#652d90',
    '--vscode-charts-yellow': '#bf8803',
    '--vscode-button-background': '#005fb8',
    '--vscode-button-foreground': '#ffffff',
    '--vscode-button-secondaryBackground': '#e5e5e5',
    '--vscode-button-secondaryForeground': '#3b3b3b',
    '--vscode-button-secondaryHoverBackground': '#cccccc',
    '--vscode-editorHoverWidget-background': '#f8f8f8',
    '--vscode-editorHoverWidget-foreground': '#3b3b3b',
    '--vscode-editorHoverWidget-border': '#c8c8c8',
    '--vscode-errorForeground': '#f85149',
    '--vscode-editorWarning-foreground': '#bf8803',
    '--vscode-widget-shadow': 'rgba(0, 0, 0, 0.16)',
  },
};

export const HIGH_CONTRAST: Theme = {
  name: 'high-contrast',
  bodyClass: 'vscode-high-contrast',
  vars: {
    ...FONT,
    '--vscode-editor-background': '#000000',
    '--vscode-editor-foreground': '#ffffff',
    '--vscode-foreground': '#ffffff',
    '--vscode-descriptionForeground': '#ffffff',
    '--vscode-panel-border': '#6fc3df',
    '--vscode-editorWidget-border': '#6fc3df',
    '--vscode-contrastBorder': '#6fc3df',
    '--vscode-contrastActiveBorder': '#f38518',
    '--vscode-focusBorder': '#f38518',
    '--vscode-charts-orange': '#d18616',
    '--vscode-charts-blue': '#3794ff',
    '--vscode-charts-green': '#89d185',
    '--vscode-charts-purple': '#b180d7',
    '--vscode-charts-yellow': '#ffd700',
    '--vscode-button-background': '#000000',
    '--vscode-button-foreground': '#ffffff',
    '--vscode-button-border': '#6fc3df',
    '--vscode-button-secondaryBackground': '#000000',
    '--vscode-button-secondaryForeground': '#ffffff',
    '--vscode-editorHoverWidget-background': '#0c141f',
    '--vscode-editorHoverWidget-foreground': '#ffffff',
    '--vscode-editorHoverWidget-border': '#6fc3df',
    '--vscode-errorForeground': '#f48771',
    '--vscode-editorWarning-foreground': '#ffd700',
  },
};
