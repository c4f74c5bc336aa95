// esbuild's text loader: a stylesheet imported as its text (uPlot's CSS, added under the page's nonce).
declare module '*.css' {
  const text: string;
  export default text;
}
