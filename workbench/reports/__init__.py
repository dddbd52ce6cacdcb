"""Quarterly and budget-sensitivity reports: papermill templates, offline HTML, a JSON record.

`run` checks parameters and executes templates; `brief` is the one-page executive brief;
`content` and `changes` build what the templates show from the pipeline's outcome; `html`
exports the executed notebook to one self-contained file.
"""

from ..views.brief import Brief, brief, brief_html
from .changes import changes_summary
from .content import (
                      Changes,
                      changes_html,
                      changes_since,
                      executive_summary,
                      input_digest,
                      methods_appendix,
                      report_record,
                      switch_table,
                      title,
)
from .run import (
                      DATA_TAG,
                      ReportError,
                      ReportJob,
                      check_parameters,
                      previous_settings,
                      report_names,
                      run_batch,
                      run_report,
                      template_path,
)

__all__ = ["DATA_TAG", "Brief", "Changes", "ReportError", "ReportJob", "brief", "brief_html", "changes_html",
           "changes_since", "changes_summary", "check_parameters", "executive_summary", "input_digest",
           "methods_appendix", "previous_settings", "report_names", "report_record", "run_batch", "run_report",
           "switch_table", "template_path", "title"]
