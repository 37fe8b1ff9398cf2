export function startPage() {}
