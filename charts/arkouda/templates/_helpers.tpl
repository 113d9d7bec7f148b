{{/*
Helpers of the arkouda umbrella chart (prefix "arkouda-umbrella.": the parts' templates share the
namespace of `define`s with this chart).
*/}}

{{/* The server part's values. */}}
{{- define "arkouda-umbrella.serverValues" -}}
{{- toYaml (index .Values "arkouda-multilocale-server" | default dict) -}}
{{- end }}

{{/* The Service clients connect to (the server part's rule: externalServiceName, else the release). */}}
{{- define "arkouda-umbrella.serviceName" -}}
{{- $srv := include "arkouda-umbrella.serverValues" . | fromYaml -}}
{{- (($srv.external | default dict).externalServiceName) | default .Release.Name -}}
{{- end }}

{{- define "arkouda-umbrella.namespace" -}}
{{- .Values.global.namespace | default .Release.Namespace -}}
{{- end }}

{{/* Refuse part values that would split the release: each part's ssh Secret must be the same. */}}
{{- define "arkouda-umbrella.checks" -}}
{{- $loc := index .Values "arkouda-locale" | default dict -}}
{{- $srv := index .Values "arkouda-multilocale-server" | default dict -}}
{{- $locSsh := (($loc.ssh | default dict).existingSecret) | default "" -}}
{{- $srvSsh := (($srv.ssh | default dict).existingSecret) | default "" -}}
{{- if ne $locSsh $srvSsh -}}
{{- fail (printf "arkouda-locale.ssh.existingSecret (%q) and arkouda-multilocale-server.ssh.existingSecret (%q) differ: every pod of the release needs the same key; set both to the same Secret" $locSsh $srvSsh) -}}
{{- end -}}
{{- with (($srv.locale | default dict).instance) -}}
{{- if ne . $.Release.Name -}}
{{- fail (printf "arkouda-multilocale-server.locale.instance is %q: in the arkouda chart the locales are this release's (%q); leave it empty" . $.Release.Name) -}}
{{- end -}}
{{- end -}}
{{- end }}
