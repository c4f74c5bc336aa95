// core's diagnostics as LSP diagnostics: the one place a core Severity becomes an LSP DiagnosticSeverity (published
// diagnostics and the ones quick fixes point at must agree).
import { DiagnosticSeverity, type Diagnostic as LspDiagnostic } from 'vscode-languageserver-types';
import type { Diagnostic, Severity } from '../../core';

export const SEVERITY: Readonly<Record<Severity, DiagnosticSeverity>> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

/** The diagnostic a quick fix names: what was published, less the fix data. */
export function lspDiagnosticRef(d: Diagnostic): LspDiagnostic {
  return { range: d.range, message: d.message, code: d.code, severity: SEVERITY[d.severity], source: 'dsod' };
}

export function toLspDiagnostic(d: Diagnostic): LspDiagnostic {
  return { ...lspDiagnosticRef(d), ...(d.suggestion !== undefined ? { data: { suggestion: d.suggestion } } : {}) };
}
