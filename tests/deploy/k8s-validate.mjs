// k8s-validate.mjs -- check Kubernetes manifests against the API schemas,
// offline.  Run by tests/deploy/check.sh with NODE_PATH-less imports from
// the directory where it installed:
//   kubernetes-models     JSON-schema validators compiled from the
//                         Kubernetes OpenAPI: types, required fields, enums,
//                         formats (int32, quantities, ...)
//   js-yaml               the YAML parser
//   client-node models    (the dist/gen/models of @kubernetes/client-node,
//                         unpacked into ./client-node-models): the field
//                         list of every API type, to reject unknown fields,
//                         which the JSON schemas let through.
//
// usage: node k8s-validate.mjs MODULES_DIR FILE...
// Prints one line per object; exits 1 if any object is not valid.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [modDir, ...files] = process.argv.slice(2);
if (!modDir || files.length === 0) {
	console.error("usage: node k8s-validate.mjs MODULES_DIR FILE...");
	process.exit(2);
}
const nm = path.join(modDir, "node_modules");
const imp = (p) => import(pathToFileURL(p).href);
const yaml = (await imp(path.join(nm, "js-yaml", "dist", "js-yaml.mjs")));
const modelsDir = path.join(modDir, "client-node-models");

const models = new Map();
async function model(name) {
	if (!models.has(name)) {
		const f = path.join(modelsDir, name + ".js");
		models.set(name, fs.existsSync(f) ? (await imp(f))[name] : null);
	}
	return models.get(name);
}

// Unknown fields and primitive types, following the client's type map.
async function walk(type, data, where, errs) {
	if (data === null || data === undefined)
		return;
	let m;
	if ((m = /^Array<(.+)>$/.exec(type))) {
		if (!Array.isArray(data))
			return errs.push(`${where}: expected a list`);
		for (let i = 0; i < data.length; i++)
			await walk(m[1], data[i], `${where}[${i}]`, errs);
		return;
	}
	if ((m = /^\{ \[key: string\]: (.+); \}$/.exec(type))) {
		if (typeof data !== "object" || Array.isArray(data))
			return errs.push(`${where}: expected a map`);
		for (const [k, v] of Object.entries(data))
			await walk(m[1], v, `${where}.${k}`, errs);
		return;
	}
	if (type === "string" || type === "number" || type === "boolean") {
		if (typeof data !== type)
			errs.push(`${where}: expected a ${type}, found ${JSON.stringify(data)}`);
		return;
	}
	const cls = /^[A-Z]/.test(type) ? await model(type) : null;
	if (!cls || !cls.attributeTypeMap)
		return;		// IntOrString, Date, any, object: left to the schema
	if (typeof data !== "object" || Array.isArray(data))
		return errs.push(`${where}: expected an object (${type})`);
	const fields = new Map(cls.attributeTypeMap.map((a) => [a.baseName, a.type]));
	for (const [k, v] of Object.entries(data)) {
		if (!fields.has(k))
			errs.push(`${where}.${k}: unknown field of ${type}`);
		else
			await walk(fields.get(k), v, `${where}.${k}`, errs);
	}
}

let bad = 0, n = 0;
for (const file of files) {
	const docs = yaml.loadAll(fs.readFileSync(file, "utf8"));
	for (const doc of docs) {
		if (doc === null || doc === undefined)
			continue;
		n++;
		const id = `${path.basename(file)}: ${doc.kind}/${doc.metadata?.name}`;
		if (typeof doc.apiVersion !== "string" || typeof doc.kind !== "string") {
			console.log(`${id}: INVALID: no apiVersion or kind`);
			bad++;
			continue;
		}
		const [group, version] = doc.apiVersion.includes("/") ?
		    doc.apiVersion.split("/") : ["", doc.apiVersion];
		const sub = group ? `${group}/${version}` : version;
		const modFile = path.join(nm, "kubernetes-models", sub, doc.kind + ".js");
		if (!fs.existsSync(modFile)) {
			console.log(`${id}: INVALID: no schema for ${doc.apiVersion} ${doc.kind}`);
			bad++;
			continue;
		}
		const errs = [];
		const Klass = (await imp(modFile))[doc.kind];
		try {
			new Klass(doc).validate();
		} catch (e) {
			errs.push(String(e.message || e));
		}
		const clientType = version.charAt(0).toUpperCase() + version.slice(1) +
		    doc.kind;
		if (!(await model(clientType)))
			errs.push(`no field list for ${clientType}`);
		else
			await walk(clientType, doc, doc.kind, errs);
		if (errs.length) {
			bad++;
			console.log(`${id}: INVALID`);
			for (const e of errs)
				console.log(`  ${e}`);
		} else {
			console.log(`${id}: valid (${doc.apiVersion})`);
		}
	}
}
if (n === 0) {
	console.log("no Kubernetes object found");
	process.exit(1);
}
process.exit(bad ? 1 : 0);
