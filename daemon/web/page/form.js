// A form generated from a plan's parameter schema (`plans.describe`): one input per property, with its
// unit, default and range; values are sent as typed JSON and validated by the daemon (the same schema and
// errors as `sessions.start` over ZeroMQ).

export function buildForm(form, schema) {
  form.replaceChildren();
  for (const [name, p] of Object.entries(schema.properties ?? {})) {
    const label = document.createElement('label');
    label.title = p.description ?? '';
    const text = document.createElement('span');
    text.textContent = name;
    let input;
    if (p.enum) {
      input = document.createElement('select');
      for (const v of p.enum) input.append(new Option(String(v), String(v), false, v === p.default));
    } else if (p.type === 'boolean') {
      input = document.createElement('input');
      input.type = 'checkbox';
      input.checked = p.default === true;
    } else {
      input = document.createElement('input');
      if (p.type === 'integer' || p.type === 'number') {
        input.type = 'number';
        input.step = p.type === 'integer' ? '1' : 'any';
        if (p.minimum !== undefined) input.min = String(p.minimum);
        if (p.maximum !== undefined) input.max = String(p.maximum);
      } else input.type = 'text';
      // Arrays are edited as comma-separated lists.
      if (p.default !== undefined) input.value = Array.isArray(p.default) ? p.default.join(', ') : String(p.default);
    }
    input.name = name;
    input.dataset.type = p.type ?? 'string';
    const unit = document.createElement('span');
    unit.className = 'unit';
    unit.textContent = p.unit && p.unit !== '1' ? p.unit : '';
    label.append(text, input, unit);
    form.append(label);
  }
}

/** The form's values as the plan's params (only those that differ from their defaults). */
export function formValues(form, schema) {
  const out = {};
  for (const input of form.querySelectorAll('input, select')) {
    const p = schema.properties?.[input.name] ?? {};
    let v;
    if (input.type === 'checkbox') v = input.checked;
    else if (input.dataset.type === 'integer' || input.dataset.type === 'number') {
      if (input.value === '') continue;
      v = Number(input.value);
    } else if (input.dataset.type === 'array') {
      const items = input.value.split(',').map((x) => x.trim()).filter((x) => x !== '');
      v = p.items?.type === 'number' || p.items?.type === 'integer' ? items.map(Number) : items;
    } else v = input.value;
    if (JSON.stringify(v) !== JSON.stringify(p.default)) out[input.name] = v;
  }
  return out;
}
