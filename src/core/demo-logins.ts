/** A demo login as `demo get` shows it: the persona's role and e-mail, and its password (masked unless asked). */
export interface LoginView {
  role: string
  email: string
  password: string
}

/** The Secret key that holds a demo's logins (JSON), next to DATABASE_URL: the only place their passwords live. */
export const LOGINS_KEY = 'DEMO_LOGINS'

function isLogin(value: unknown): value is LoginView {
  if (value === null || typeof value !== 'object') return false
  const v = value as Record<string, unknown>
  return typeof v.role === 'string' && typeof v.email === 'string' && typeof v.password === 'string'
}

/** The logins of a demo's Secret values, passwords replaced by `mask` unless `showSecrets`; [] when there are none or they do not parse. */
export function loginsOf(values: Record<string, string> | null, options: {showSecrets: boolean; mask: string}): LoginView[] {
  const text = values?.[LOGINS_KEY]
  if (!text) return []
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return []
  }
  if (!Array.isArray(parsed)) return []
  return parsed.filter(isLogin).map((l) => ({role: l.role, email: l.email, password: options.showSecrets ? l.password : options.mask}))
}
