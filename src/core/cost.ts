import type {ProjectConfig} from './project-config.js'

const GIB = 1024 ** 3
const SUFFIX: Record<string, number> = {
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: GIB,
  Ti: 1024 ** 4,
}

/** A Kubernetes quantity ("500m", "2", "4Gi") as a plain number (cores, bytes); NaN when it is not one. */
export function parseQuantity(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(text.trim())
  if (!match) return Number.NaN
  return Number(match[1]) * (match[2] ? (SUFFIX[match[2]] ?? 1) : 1)
}

/** How one hour of a demo of a type is priced: a fixed price, or the quota's requests at the CPU and GiB prices. */
export interface HourlyPrice {
  perHour: number
  /** How the price came about, for people ("2 CPU × $0.04 + 4 GiB × $0.005", "cost.typeHour.enterprise"). */
  basis: string
}

export type CostConfig = Pick<ProjectConfig, 'cost' | 'quota'>

/** The price of one demo-hour of `type` (a type no longer configured is priced by the quota). */
export function hourlyPrice(config: CostConfig, type: string): HourlyPrice {
  const fixed = Object.hasOwn(config.cost.typeHour, type) ? config.cost.typeHour[type] : undefined
  if (fixed !== undefined) return {perHour: fixed, basis: `cost.typeHour.${type}`}
  const cpu = quotaAmount(config.quota['requests.cpu'])
  const gib = quotaAmount(config.quota['requests.memory']) / GIB
  const {cpuHour, gibHour} = config.cost
  return {
    perHour: cpu * cpuHour + gib * gibHour,
    basis: `${round(cpu)} CPU × ${money(cpuHour, config)} + ${round(gib)} GiB × ${money(gibHour, config)}`,
  }
}

function quotaAmount(text: string | undefined): number {
  const amount = text === undefined ? 0 : parseQuantity(text)
  return Number.isFinite(amount) ? amount : 0
}

function round(n: number): string {
  return String(Math.round(n * 100) / 100)
}

/** "$1.25", "€0.004", "12.50 CHF": at least two decimals, more for prices below a cent. */
export function money(amount: number, config: Pick<ProjectConfig, 'cost'>): string {
  const digits = amount !== 0 && Math.abs(amount) < 0.01 ? 4 : 2
  const symbol = CURRENCY_SYMBOLS[config.cost.currency]
  const value = amount.toFixed(digits)
  return symbol ? `${symbol}${value}` : `${value} ${config.cost.currency}`
}

const CURRENCY_SYMBOLS: Record<string, string> = {USD: '$', EUR: '€', GBP: '£'}

/** What a demo of `type` living `hours` is estimated to cost. */
export interface CostEstimate {
  amount: number
  currency: string
  hours: number
  perHour: number
  basis: string
}

export function estimateCost(config: CostConfig, type: string, hours: number): CostEstimate {
  const price = hourlyPrice(config, type)
  return {amount: price.perHour * hours, currency: config.cost.currency, hours, perHour: price.perHour, basis: price.basis}
}
