declare module '@vercel/ncc' {
  interface NccOptions {
    minify?: boolean;
    sourceMap?: boolean;
    quiet?: boolean;
    target?: string;
    license?: string;
    externals?: string[];
  }
  interface NccResult {
    code: string;
    map?: string;
    assets?: Record<string, { source: string | Buffer; permissions?: number }>;
  }
  export default function ncc(entry: string, options?: NccOptions): Promise<NccResult>;
}
